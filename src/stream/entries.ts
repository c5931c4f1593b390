import { DecodeError, SluiceError } from '../errors.js';
import { splitEntryFields, type Codec } from './codec.js';
import type { EventMeta, FieldsEvent, JsonEvent } from './event.js';
import { idTime } from './stream-id.js';
import { validate, type StandardSchemaV1 } from './schema.js';

/** One entry as Redis returns it (RESP2): `[id, [field, value, …]]`; fields nil if deleted. */
export type RawEntry = [id: string, fields: string[] | null];

/** How a stream turns raw entries into events. */
export interface EntryDecoder {
  stream: string;
  codec: Codec;
  schema: StandardSchemaV1 | undefined;
}

/**
 * Decodes one entry into `{ stream, id, time, fields | data, meta? }`. Throws `DecodeError` or
 * `SchemaValidationError` for an entry the codec or schema refuses; returns a promise only when
 * the schema validates asynchronously.
 */
export function decodeEntry<E>(decoder: EntryDecoder, entry: RawEntry): E | Promise<E> {
  const [id, flat] = entry;
  if (flat === null) throw new DecodeError(id, 'the entry was deleted or trimmed (no fields)');
  shareFieldNames(flat);
  const { fields, meta } = splitEntryFields(flat);
  const payload = decoder.codec.decode(fields, id);
  if (!decoder.schema) return makeEvent(decoder, id, payload, meta) as E;
  const checked = validate(decoder.schema, payload, id);
  if (checked instanceof Promise) return checked.then((value) => makeEvent(decoder, id, value, meta) as E);
  return makeEvent(decoder, id, checked, meta) as E;
}

/** The field names of the last entry decoded: entries of a stream mostly repeat them, in order. */
const lastNames: string[] = [];

/**
 * Swaps each field name for the equal string of the previous entry, when they match. Each reply
 * brings fresh strings, and V8 must look a fresh string up in its table of property names every
 * time it becomes an object key; the previous entry's name has been through that already. About
 * half the cost of building the event's fields, for one comparison of a few bytes per field.
 */
function shareFieldNames(flat: string[]): void {
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i] as string;
    const last = lastNames[i];
    if (name === last) flat[i] = last;
    else lastNames[i] = name;
  }
}

// Built as literals of one shape each (no spread): this runs for every event read.
function makeEvent(decoder: EntryDecoder, id: string, payload: unknown, meta: EventMeta | undefined): FieldsEvent<unknown> | JsonEvent {
  const time = msOf(id);
  if (decoder.codec.name === 'json') {
    return meta ? { stream: decoder.stream, id, time, data: payload, meta } : { stream: decoder.stream, id, time, data: payload };
  }
  return meta ? { stream: decoder.stream, id, time, fields: payload, meta } : { stream: decoder.stream, id, time, fields: payload };
}

/**
 * `idTime(id)` without the substring: the digits before the dash, summed as they come. Exact up
 * to 15 digits (any real clock); longer ones (hand-made IDs) go through idTime.
 */
function msOf(id: string): number {
  let ms = 0;
  for (let i = 0; i < id.length && i < 16; i++) {
    const c = id.charCodeAt(i);
    if (c === 45 /* - */) return ms;
    ms = ms * 10 + (c - 48);
  }
  return idTime(id);
}

/** `XREAD`'s reply for one stream: its entries, or none. */
export function entriesOfXread(reply: unknown): RawEntry[] {
  if (reply === null || reply === undefined) return [];
  const streams = reply as Array<[string, RawEntry[]]>;
  const first = streams[0];
  return first ? first[1] : [];
}

/** What read() does with an entry it cannot decode or that fails the schema. */
export type InvalidEntryAction = 'throw' | 'skip';

export function isDecodeFailure(error: unknown): boolean {
  return error instanceof SluiceError && (error.code === 'ERR_DECODE' || error.code === 'ERR_SCHEMA');
}
