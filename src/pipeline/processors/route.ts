import { InvalidOptionError } from '../../errors.js';
import type { PipelineEvent, SinkTarget } from '../config.js';
import { keyAt } from '../key-path.js';
import { compileCondition, type Test } from './condition.js';

/** Registers a sink of the pipeline and returns its slot (its index among the pipeline's sinks). */
export type AddSink = (target: unknown, at: string) => number;

interface Case {
  test: Test;
  targets: readonly number[];
}

const NOWHERE: readonly number[] = [];

/**
 * The compiled `route` step: the first case whose condition holds takes the event, to every sink
 * of its `to`; otherwise the `default` case's sinks, else the pipeline's own `sinks` (`fallback`).
 * Targets are slots of the pipeline's sinks, fixed when the pipeline is defined: choosing one
 * allocates nothing.
 */
export class Router {
  readonly #cases: readonly Case[];
  readonly #otherwise: readonly number[];

  constructor(cases: readonly Case[], otherwise: readonly number[]) {
    this.#cases = cases;
    this.#otherwise = otherwise;
  }

  /** The sinks (slots) an event goes to; empty when it goes nowhere (it is dropped). */
  select(event: PipelineEvent): readonly number[] | Promise<readonly number[]> {
    const cases = this.#cases;
    for (let i = 0; i < cases.length; i++) {
      const { test, targets } = cases[i] as Case;
      const matched = test(event);
      if (matched === true) return targets;
      if (matched !== false) return this.#selectAsync(event, i, matched);
    }
    return this.#otherwise;
  }

  async #selectAsync(event: PipelineEvent, from: number, pending: Promise<boolean>): Promise<readonly number[]> {
    if (await pending) return (this.#cases[from] as Case).targets;
    for (let i = from + 1; i < this.#cases.length; i++) {
      const { test, targets } = this.#cases[i] as Case;
      if (await test(event)) return targets;
    }
    return this.#otherwise;
  }
}

/**
 * Compiles `route: [{ when, to }, …, { default }]` at `at` (`steps[2]`). `fallback` holds the
 * pipeline's `sinks`, used when no case matches and there is no default.
 */
export function compileRoute(cases: unknown, at: string, addSink: AddSink, fallback: readonly number[]): Router {
  const path = `${at}.route`;
  if (!Array.isArray(cases) || cases.length === 0) {
    throw new InvalidOptionError(path, cases, 'a list of cases like [{ when: \'double(amount) > 100\', to: [{ type: "sqlite", table: "big_orders" }] }, { default: [...] }]');
  }
  const compiled: Case[] = [];
  let otherwise: readonly number[] | undefined;
  cases.forEach((item: unknown, index) => {
    const caseAt = keyAt(path, index);
    if (item === null || typeof item !== 'object' || Array.isArray(item)) {
      throw new InvalidOptionError(caseAt, item, 'a case like { when: \'status == "paid"\', to: [...] } or { default: [...] }');
    }
    const entry = item as Record<string, unknown>;
    if ('default' in entry) {
      const extra = Object.keys(entry).find((key) => key !== 'default');
      if (extra !== undefined) throw new InvalidOptionError(keyAt(caseAt, extra), entry[extra], 'absent: a default case has only `default`');
      if (index !== cases.length - 1) throw new InvalidOptionError(keyAt(caseAt, 'default'), entry.default, 'the last case of the route (cases after it would never be reached)');
      otherwise = targetsOf(entry.default, keyAt(caseAt, 'default'), addSink);
      return;
    }
    const extra = Object.keys(entry).find((key) => key !== 'when' && key !== 'to');
    if (extra !== undefined) throw new InvalidOptionError(keyAt(caseAt, extra), entry[extra], 'absent: a route case has `when` and `to` (or only `default`)');
    if (entry.when === undefined) throw new InvalidOptionError(keyAt(caseAt, 'when'), undefined, 'a CEL expression like `double(amount) > 100.0`, or a function (event) => boolean');
    const test = compileCondition(entry.when as string, keyAt(caseAt, 'when'));
    compiled.push({ test, targets: targetsOf(entry.to, keyAt(caseAt, 'to'), addSink) });
  });
  return new Router(compiled, otherwise ?? (fallback.length > 0 ? fallback : NOWHERE));
}

/** `to` / `default`: one sink or a non-empty list of them. */
function targetsOf(value: unknown, at: string, addSink: AddSink): readonly number[] {
  if (value === undefined) throw new InvalidOptionError(at, value, 'a list of sinks like [{ type: "sqlite", table: "orders" }]');
  const list: unknown[] = Array.isArray(value) ? value : [value as SinkTarget];
  if (list.length === 0) throw new InvalidOptionError(at, value, 'at least one sink like { type: "sqlite", table: "orders" }');
  const slots = list.map((target, i) => addSink(target, Array.isArray(value) ? keyAt(at, i) : at));
  return slots;
}
