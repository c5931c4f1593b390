import { DecodeError, InvalidFieldError, InvalidOptionError, show } from '../errors.js';
import { isTracestate } from '../observe/traceparent.js';
import { META_FIELDS, type EventMeta, type FieldsInput, type PublishMeta } from './event.js';

/**
 * Turns what a producer publishes into a stream entry's flat field list and back.
 * `payload` is the event's `fields` (fields codec) or `data` (json codec).
 */
export interface Codec {
  readonly name: 'fields' | 'json';
  /**
   * A new array: `head` (the command's start, e.g. `XADD key *`; may be empty) followed by the
   * entry's field/value pairs. Throws `InvalidFieldError` for bad input.
   */
  encode(value: unknown, head: readonly string[]): string[];
  /** Decodes the payload of an entry, given its fields without the `$` metadata. */
  decode(fields: Record<string, string>, id: string): unknown;
}

/** The default codec: flat string fields, exactly as the seed guide writes them with XADD. */
export const fieldsCodec: Codec = {
  name: 'fields',
  encode(value, head) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new InvalidFieldError('', `Expected the event to be an object of fields like { order_id: '12345' }, got ${show(value)}`);
    }
    let count = 0;
    for (const name in value as FieldsInput) {
      if (name.length === 0) throw new InvalidFieldError(name, 'Expected field names to be non-empty, got ``');
      if (name.charCodeAt(0) === 36 /* $ */) {
        throw new InvalidFieldError(name, `Field \`${name}\`: names starting with \`$\` are reserved for Sluice metadata (use the publish options key, type…)`);
      }
      count++;
    }
    if (count === 0) throw new InvalidFieldError('', 'Expected the event to have at least one field, got {}');
    // Sized once: appending to a copy of the head grew it past its final length on every publish
    // (a second backing store, ~140 bytes of garbage per event on the hottest path).
    const out = new Array<string>(head.length + count * 2);
    let at = 0;
    for (; at < head.length; at++) out[at] = head[at] as string;
    for (const name in value as FieldsInput) {
      out[at++] = name;
      out[at++] = fieldText(name, (value as FieldsInput)[name]);
    }
    // A getter that added or removed fields between the two passes: no holes, nothing cut off.
    if (at !== out.length) out.length = at;
    return out;
  },
  decode(fields) {
    return fields;
  },
};

/** One `data` field holding JSON, for nested data. */
export const jsonCodec: Codec = {
  name: 'json',
  encode(value, head) {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (error) {
      throw new InvalidFieldError('data', `Expected the event to be JSON-serializable: ${(error as Error).message}`);
    }
    if (text === undefined) throw new InvalidFieldError('data', `Expected the event to be JSON-serializable, got ${show(value)}`);
    return [...head, 'data', text];
  },
  decode(fields, id) {
    const text = fields.data;
    if (text === undefined) throw new DecodeError(id, 'expected a `data` field holding JSON (json codec), found none');
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new DecodeError(id, `the \`data\` field is not valid JSON: ${(error as Error).message}`, { cause: error });
    }
  },
};

export type CodecName = Codec['name'];

export function codecByName(name: unknown): Codec {
  if (name === undefined || name === 'fields') return fieldsCodec;
  if (name === 'json') return jsonCodec;
  throw new InvalidOptionError('codec', name, '`fields` or `json`');
}

/** Appends the `$` fields of the metadata that is set. */
export function encodeMeta(meta: PublishMeta & { idempotencyKey?: string }, out: string[]): void {
  if (meta.key !== undefined) out.push('$key', metaText('key', meta.key));
  if (meta.type !== undefined) out.push('$type', metaText('type', meta.type));
  if (meta.traceparent !== undefined) out.push('$tp', metaText('traceparent', meta.traceparent));
  if (meta.tracestate !== undefined) out.push('$ts', tracestateText(meta.tracestate));
  if (meta.idempotencyKey !== undefined) out.push('$idk', metaText('idempotencyKey', meta.idempotencyKey));
}

/**
 * Splits an entry's flat `[field, value, …]` reply into payload fields and `$` metadata.
 * `meta` is undefined when the entry has none (the common case: no allocation).
 */
export function splitEntryFields(flat: readonly string[]): { fields: Record<string, string>; meta: EventMeta | undefined } {
  const fields: Record<string, string> = {};
  let meta: EventMeta | undefined;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i] as string;
    const value = flat[i + 1] as string;
    if (name.charCodeAt(0) === 36 /* $ */ && name.length > 1) {
      meta ??= {};
      meta[META_FIELDS[name] ?? name.slice(1)] = value;
    } else {
      fields[name] = value;
    }
  }
  return { fields, meta };
}

function fieldText(name: string, value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new InvalidFieldError(name, `Field \`${name}\`: expected a finite number, got ${value}`);
      return String(value);
    case 'boolean':
    case 'bigint':
      return String(value);
    default:
      throw new InvalidFieldError(
        name,
        `Field \`${name}\`: expected a string, number, boolean or bigint, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : value === undefined ? 'undefined' : `a ${typeof value}`.replace(/^a ([aeiou])/, 'an $1')}` +
          (typeof value === 'object' ? ' (use the json codec for nested data)' : ''),
      );
  }
}

function metaText(option: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw new InvalidOptionError(option, value, 'a non-empty string');
  return value;
}

function tracestateText(value: unknown): string {
  if (!isTracestate(value)) {
    throw new InvalidOptionError('tracestate', value, 'a W3C tracestate like `congo=t61rcWkgMzE,rojo=00f067aa0ba902b7` (printable ASCII, at most 512 characters)');
  }
  return value;
}
