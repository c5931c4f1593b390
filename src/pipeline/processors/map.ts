import { NonRetryableError } from '../../consumer/worker.js';
import { InvalidOptionError } from '../../errors.js';
import type { MapFunction, MapModule, PipelineEvent } from '../config.js';
import { compileExpression, type Expression } from '../expression.js';
import { keyAt } from '../key-path.js';
import { describeExpression, isPromiseLike, stepError, type Processor, type StepResult } from './processor.js';

/** The fields a map sets: a field name, the expression giving its value, and their names for errors. */
type Assignment = readonly [field: string, expression: Expression, what: string, at: string];

/** True when a `map` value names a module (`{ module, export? }`) rather than fields to set. */
export function isMapModule(value: unknown): value is MapModule {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.includes('module') && keys.every((key) => key === 'module' || key === 'export');
}

/**
 * `{ map: { field: 'expression', … } }`: every expression is evaluated against the event as it
 * entered the step, then the results are set. Text, numbers and booleans become the field's text
 * (`fields` codec) or JSON values (`json` codec); `null` removes the field; fields not named are
 * kept. An expression that fails on an event dead-letters it with the expression and the error.
 */
export function expressionMapProcessor(fields: Record<string, unknown>, at: string): Processor {
  const path = `${at}.map`;
  const entries = Object.entries(fields);
  if (entries.length === 0) throw new InvalidOptionError(path, fields, 'at least one field like { total: "double(amount) * 1.2" }');
  const assignments: Assignment[] = entries.map(([field, source]) => {
    const fieldAt = keyAt(path, field);
    if (field === '' || field.startsWith('$')) throw new InvalidOptionError(fieldAt, field, 'a field name not starting with `$` (those are Sluice metadata)');
    const expression = compileExpression(source as string | number | boolean, fieldAt);
    return [field, expression, describeExpression(expression), fieldAt];
  });
  return {
    at,
    process(event: PipelineEvent): StepResult {
      const values: unknown[] = new Array(assignments.length);
      for (let i = 0; i < assignments.length; i++) {
        const [, expression, what, fieldAt] = assignments[i] as Assignment;
        try {
          values[i] = expression.evaluate(event);
        } catch (error) {
          throw stepError(error, fieldAt, what);
        }
      }
      if (event.fields !== undefined) {
        const next: Record<string, string> = { ...event.fields };
        for (let i = 0; i < assignments.length; i++) {
          const [field, , what, fieldAt] = assignments[i] as Assignment;
          const text = fieldText(values[i], fieldAt, what);
          if (text === null) delete next[field];
          else next[field] = text;
        }
        event.fields = next;
        return event;
      }
      const data = event.data;
      if (data === null || typeof data !== 'object' || Array.isArray(data)) {
        throw new NonRetryableError(`${path} sets fields, but the event's data is ${Array.isArray(data) ? 'an array' : typeof data}, not an object`);
      }
      const next: Record<string, unknown> = { ...(data as Record<string, unknown>) };
      for (let i = 0; i < assignments.length; i++) {
        const [field, , what, fieldAt] = assignments[i] as Assignment;
        const value = jsonValue(values[i], fieldAt, what);
        if (value === null) delete next[field];
        else next[field] = value;
      }
      event.data = next;
      return event;
    },
  };
}

/**
 * `{ map: fn }`: the function's event goes on (see `MapFunction`). The envelope stays the input
 * event's: a returned event without `id`, `stream` or `time` gets them, one with another `id` is
 * refused (acknowledgements and sinks key on it).
 */
export function functionMapProcessor(fn: MapFunction, at: string, label?: string): Processor {
  const what = label ?? `function ${fn.name || '(anonymous)'}`;
  const path = `${at}.map`;
  const settle = (event: PipelineEvent, result: unknown): PipelineEvent | null => {
    if (result === undefined) return event;
    if (result === null) return null;
    if (typeof result !== 'object' || Array.isArray(result)) {
      throw new NonRetryableError(`${path} ${what} returned ${Array.isArray(result) ? 'an array' : typeof result}, expected an event, null (drop it) or undefined (keep it)`);
    }
    const next = result as PipelineEvent;
    if (next === event) return event;
    if (next.id === undefined) next.id = event.id;
    else if (next.id !== event.id) throw new NonRetryableError(`${path} ${what} returned an event with id ${String(next.id)}, expected the input's id ${event.id}`);
    if (next.stream === undefined) next.stream = event.stream;
    if (next.time === undefined) next.time = event.time;
    if (next.meta === undefined && event.meta !== undefined) next.meta = event.meta;
    return next;
  };
  return {
    at,
    process(event: PipelineEvent): StepResult {
      let result: unknown;
      try {
        result = fn(event);
      } catch (error) {
        throw stepError(error, path, what);
      }
      if (!isPromiseLike<unknown>(result)) return settle(event, result);
      return Promise.resolve(result).then(
        (value) => settle(event, value),
        (error: unknown) => {
          throw stepError(error, path, what);
        },
      );
    },
  };
}

/** A CEL value as the text of a field; null removes the field. */
function fieldText(value: unknown, at: string, what: string): string | null {
  switch (typeof value) {
    case 'string':
      return value;
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (Number.isFinite(value)) return String(value);
      break;
    default:
      if (value === null) return null;
      if (value instanceof Date) return value.toISOString();
      if (isUnsigned(value)) return value.toString();
  }
  throw new NonRetryableError(`${at} ${what} gave ${describe(value)}; a field holds text, a number or a boolean (use a json-codec stream for nested data)`);
}

/** A CEL value as a JSON value (json codec). */
function jsonValue(value: unknown, at: string, what: string): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'bigint':
      return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
    case 'number':
      if (Number.isFinite(value)) return value;
      break;
    default:
      if (value === null) return null;
      if (value instanceof Date) return value.toISOString();
      if (isUnsigned(value)) return jsonValue(value.valueOf(), at, what);
      if (Array.isArray(value)) return value.map((item) => jsonValue(item, at, what));
      if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), jsonValue(v, at, what)]));
      if (typeof value === 'object' && !(value instanceof Uint8Array)) {
        return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, jsonValue(v, at, what)]));
      }
  }
  throw new NonRetryableError(`${at} ${what} gave ${describe(value)}, which JSON cannot hold`);
}

function isUnsigned(value: unknown): value is { valueOf(): bigint; toString(): string } {
  return value !== null && typeof value === 'object' && typeof (value as { valueOf(): unknown }).valueOf() === 'bigint';
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Uint8Array) return 'bytes';
  if (value instanceof Map || (value !== null && typeof value === 'object')) return 'a map';
  return String(value);
}
