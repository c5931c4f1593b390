import { DecodeError, SluiceError } from '../errors.js';
import { splitEntryFields, type Codec } from './codec.js';
import type { EventEnvelope } from './event.js';
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
  const { fields, meta } = splitEntryFields(flat);
  const payload = decoder.codec.decode(fields, id);
  const base: EventEnvelope = { stream: decoder.stream, id, time: idTime(id) };
  if (meta) base.meta = meta;
  const key = decoder.codec.name === 'json' ? 'data' : 'fields';
  if (!decoder.schema) return { ...base, [key]: payload } as E;
  const checked = validate(decoder.schema, payload, id);
  if (checked instanceof Promise) return checked.then((value) => ({ ...base, [key]: value }) as E);
  return { ...base, [key]: checked } as E;
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
