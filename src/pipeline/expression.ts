import { Environment } from '@marcbachmann/cel-js';
import { InvalidOptionError } from '../errors.js';
import type { PipelineEvent } from './config.js';

/**
 * Expressions of filters, maps and routes are CEL (Common Expression Language, the language of
 * Kubernetes validation rules and Envoy): side-effect free, always terminating, no access to the
 * process. They are parsed and type-checked once, when the pipeline is defined, and evaluated per
 * event against these variables:
 *
 * - each field of the event, by name (`status`, `amount`): strings with the `fields` codec; with
 *   the `json` codec, the keys of `data` (numbers are doubles, as JSON numbers are in CEL);
 * - `fields`: all fields as a map, for names that are not identifiers or may be missing
 *   (`fields["order-id"]`, `has(fields.discount)`, `fields.?discount.orValue("0")`);
 * - `data`: the decoded JSON payload (`json` codec);
 * - `event`: the envelope, `event.id`, `event.stream`, `event.time` (ms since the epoch, a double)
 *   and `event.meta` (`$key` as `event.meta.key`…, when present).
 *
 * Fields are text, as Redis stores them: convert before comparing numbers, `double(amount) > 100.0`
 * or `int(quantity) >= 2`. Besides CEL's built-ins (`double`, `int`, `string`, `size`,
 * `contains`, `startsWith`, `matches`, `lowerAscii`, `upperAscii`, `in`, `has`, macros…), these
 * numeric helpers exist: `round(x)`, `round(x, digits)`, `floor(x)`, `ceil(x)`, `abs(x)`.
 */
const environment = new Environment({ unlistedVariablesAreDyn: true, enableOptionalTypes: true })
  // Maps, not dyn: comparing one whole to a value (`event != "login"`, meaning a field named
  // `event`) is then a type error when the pipeline is defined instead of always true.
  .registerVariable('event', 'map<string, dyn>')
  .registerVariable('fields', 'map<string, dyn>')
  .registerFunction('round(double): double', (x: number) => Math.round(x))
  .registerFunction('round(double, int): double', (x: number, digits: bigint) => roundTo(x, Number(digits)))
  .registerFunction('floor(double): double', (x: number) => Math.floor(x))
  .registerFunction('ceil(double): double', (x: number) => Math.ceil(x))
  .registerFunction('abs(double): double', (x: number) => Math.abs(x))
  .registerFunction('abs(int): int', (x: bigint) => (x < 0n ? -x : x));

/** Rounds half away from zero to `digits` decimals (`round(2.675, 2)` is 2.68, as people expect). */
function roundTo(x: number, digits: number): number {
  if (digits < 0 || digits > 15) return x;
  const factor = 10 ** digits;
  // toPrecision(15) first: 2.675 is stored as 2.67499999…, which would round down.
  const scaled = Number((Math.abs(x) * factor).toPrecision(15));
  return (Math.sign(x) * Math.round(scaled)) / factor;
}

/** A CEL expression that does not parse or type-check, caught when the pipeline is defined. */
export class InvalidExpressionError extends InvalidOptionError {
  /** Where in the expression (0-based character offset) the problem is, when known. */
  readonly offset: number | undefined;

  constructor(option: string, source: unknown, reason: string, offset?: number) {
    super(option, source, `a CEL expression (${reason}${offset === undefined ? '' : ` at character ${offset + 1}`}) — see docs/pipelines.md#expressions`);
    this.offset = offset;
  }
}

type Evaluate = (context: Record<string, unknown>) => unknown;

/**
 * A compiled CEL expression. `evaluate` runs it against one event; it throws the library's
 * evaluation error (an unknown field, `double("abc")`…) for the caller to dead-letter.
 */
export class Expression {
  readonly source: string;
  /** Where the expression was configured (`steps[0].filter`), for error messages. */
  readonly at: string;
  readonly #run: Evaluate;
  /** The event's fields the expression names as variables. */
  readonly #names: readonly string[];
  readonly #usesFields: boolean;
  readonly #usesData: boolean;
  readonly #usesEvent: boolean;

  constructor(expression: string | number | boolean, at: string) {
    // YAML reads `qty: 1` or `filter: true` as a number or a boolean: the same CEL literal.
    const source = typeof expression === 'number' || typeof expression === 'boolean' ? String(expression) : expression;
    if (typeof source !== 'string' || source.trim() === '') throw new InvalidOptionError(at, source, 'a CEL expression like `status == "paid"`');
    let parsed: ReturnType<typeof environment.parse>;
    try {
      parsed = environment.parse(source);
    } catch (error) {
      throw new InvalidExpressionError(at, source, firstLine(error), offsetOf(error));
    }
    const checked = parsed.check();
    if (!checked.valid) throw new InvalidExpressionError(at, source, firstLine(checked.error) + mapHint(firstLine(checked.error)), offsetOf(checked.error));
    this.source = source;
    this.at = at;
    this.#run = parsed as unknown as Evaluate;
    const names = freeVariables(parsed.ast);
    // `fields`, `data` and `event` are not fields: a field with one of these names is `fields.<name>`.
    this.#usesFields = names.delete('fields');
    this.#usesData = names.delete('data');
    this.#usesEvent = names.delete('event');
    this.#names = [...names];
  }

  /** Runs the expression against an event. Only the variables it names are looked up. */
  evaluate(event: PipelineEvent): unknown {
    const context: Record<string, unknown> = {};
    if (this.#usesEvent) context.event = event;
    if (this.#usesFields) context.fields = event.fields;
    if (this.#usesData) context.data = event.data;
    const names = this.#names;
    if (names.length > 0) {
      const payload = event.fields ?? (isRecord(event.data) ? event.data : undefined);
      for (let i = 0; i < names.length; i++) {
        const name = names[i] as string;
        // Every name is set, to undefined when the event has no such field: a name absent from
        // the context would be looked up on Object.prototype (`constructor`, `toString`).
        context[name] = payload !== undefined && Object.hasOwn(payload, name) ? (payload as Record<string, unknown>)[name] : undefined;
      }
    }
    return this.#run(context);
  }
}

/** Compiles an expression; throws `InvalidOptionError` naming `at` if it does not parse. */
export function compileExpression(source: string | number | boolean, at: string): Expression {
  return new Expression(source, at);
}

/**
 * The identifiers an expression reads as variables. Comprehension variables (`x` in
 * `items.map(x, …)`) are included too: looking them up finds nothing and the macro binds them.
 */
function freeVariables(node: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) {
    for (const child of node) freeVariables(child, found);
  } else if (node !== null && typeof node === 'object' && 'op' in node && 'args' in node) {
    const { op, args } = node as { op: string; args: unknown };
    if (op === 'id') {
      if (typeof args === 'string' && !RESERVED_WORDS.has(args)) found.add(args);
    } else {
      freeVariables(args, found);
    }
  }
  return found;
}

/** For a type error about `event` or `fields` used whole: what they are, and how to reach a field of that name. */
function mapHint(reason: string): string {
  if (!reason.includes('map<string, dyn>')) return '';
  return '; `event` is the envelope (event.id, event.time, event.meta…) and `fields` the map of all fields: a field named event or fields is `fields.event`, `fields.fields`';
}

/** `cel` in `cel.bind(…)` is a namespace, not a variable. */
const RESERVED_WORDS = new Set(['cel']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0]?.trim() || 'invalid expression';
}

function offsetOf(error: unknown): number | undefined {
  const start = (error as { range?: { start?: unknown } } | undefined)?.range?.start;
  return typeof start === 'number' ? start : undefined;
}

/** The first line of an evaluation error, for dead-letter messages. */
export function describeEvaluationError(error: unknown): string {
  return firstLine(error);
}
