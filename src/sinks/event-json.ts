import type { SinkEvent } from './sink.js';

/**
 * The JSON shape of an event in webhook bodies, JSONL files and stdout:
 * `{ "stream", "id", "time", "fields" | "data", "meta"? }` — the event as read, keys in that order.
 */
export interface EventJson {
  stream: string;
  id: string;
  time: number;
  fields?: Record<string, string>;
  data?: unknown;
  meta?: Record<string, string | undefined>;
}

export function eventJson(event: SinkEvent): EventJson {
  const json: EventJson = { stream: event.stream, id: event.id, time: event.time };
  if (event.fields !== undefined) json.fields = event.fields;
  else if (event.data !== undefined) json.data = event.data;
  if (event.meta !== undefined && Object.keys(event.meta).length > 0) json.meta = event.meta;
  return json;
}
