/** A value the `fields` codec stores as text. Objects, arrays, null and undefined are rejected. */
export type FieldValue = string | number | boolean | bigint;

/** What the `fields` codec publishes: a flat map, exactly as `XADD key * field value …` writes it. */
export type FieldsInput = Record<string, FieldValue>;

/**
 * Metadata Sluice stores in `$`-prefixed fields, present only when used, so a plain event stays
 * exactly its own fields in redis-cli.
 */
export interface EventMeta {
  /** Ordering key (`$key`): events with the same key are handled one at a time, in order. */
  key?: string;
  /** Idempotency key (`$idk`). */
  idempotencyKey?: string;
  /** W3C traceparent (`$tp`) of the span that published the event, when it was published inside one. */
  traceparent?: string;
  /** W3C tracestate (`$ts`) that came with the traceparent, when it had one (vendors' trace data). */
  tracestate?: string;
  /** Event type (`$type`). */
  type?: string;
  /** Any other `$` field, by its name without the `$`. */
  [name: string]: string | undefined;
}

/** Common to every event read from a stream. */
export interface EventEnvelope {
  /** The stream the event was read from. */
  stream: string;
  /** The entry ID Redis gave the event (`<ms>-<seq>`). */
  id: string;
  /** When the event was appended: the ID's milliseconds since the epoch. */
  time: number;
  /** Sluice metadata (`$` fields), only when the event has some. */
  meta?: EventMeta;
}

/** An event of a `fields` stream: `{ stream, id, time, fields }`. */
export interface FieldsEvent<T = Record<string, string>> extends EventEnvelope {
  fields: T;
}

/** An event of a `json` stream: `{ stream, id, time, data }`. */
export interface JsonEvent<T = unknown> extends EventEnvelope {
  data: T;
}

/** Publish-time metadata; each becomes a `$` field only when given. */
export interface PublishMeta {
  /** Ordering key, stored as `$key`. */
  key?: string;
  /** Event type, stored as `$type`. */
  type?: string;
  /**
   * W3C traceparent, stored as `$tp`; consumers' handler spans become its children. Checked:
   * `InvalidOptionError` unless it is one.
   * @default the active OpenTelemetry span's, when one is active; else none (no `$tp` field)
   * @example '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
   */
  traceparent?: string;
  /**
   * W3C tracestate that goes with `traceparent` (vendor-specific trace data, e.g. `congo=t61rcWkgMzE`),
   * stored as `$ts` and restored on the consumer's handler span. Only with a `traceparent`; at most
   * 512 printable ASCII characters.
   * @default the active OpenTelemetry span's trace state, when it has entries; else none
   */
  tracestate?: string;
}

/** Field names of the metadata Sluice knows, and their `EventMeta` property names. */
export const META_FIELDS: Readonly<Record<string, keyof EventMeta>> = {
  $key: 'key',
  $idk: 'idempotencyKey',
  $tp: 'traceparent',
  $ts: 'tracestate',
  $type: 'type',
};
