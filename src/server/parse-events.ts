import { HttpError } from './http-error.js';
import { findJsonSyntaxError, lineAndColumn } from './json-syntax.js';

/** How a request body holds its events. */
export type BodyFormat = 'json' | 'ndjson';

/** The events of a body, in order, and for NDJSON the line each came from. */
export interface ParsedEvents {
  events: unknown[];
  /** NDJSON only: `lines[i]` is the line number (from 1) of event `i`. */
  lines: number[] | undefined;
}

const NDJSON_TYPES = new Set(['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines', 'application/jsonlines']);

/**
 * The format a Content-Type announces: JSON (`application/json`, any `…+json`, or no header at
 * all) or NDJSON (`application/x-ndjson` and its aliases). Anything else is a 415: in particular
 * `application/x-www-form-urlencoded`, which `curl -d` sends unless told otherwise.
 */
export function bodyFormat(contentType: string | undefined): BodyFormat {
  if (contentType === undefined || contentType.trim() === '') return 'json';
  const [type = '', ...params] = contentType.split(';').map((part) => part.trim().toLowerCase());
  const charset = params.find((p) => p.startsWith('charset='))?.slice('charset='.length).replace(/"/g, '');
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
    throw new HttpError(415, 'ERR_UNSUPPORTED_MEDIA_TYPE', `Expected the body in UTF-8, got charset=${charset}`);
  }
  if (type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'))) return 'json';
  if (NDJSON_TYPES.has(type)) return 'ndjson';
  const hint = type === 'application/x-www-form-urlencoded' ? " (curl -d sends that: add -H 'Content-Type: application/json')" : '';
  throw new HttpError(415, 'ERR_UNSUPPORTED_MEDIA_TYPE', `Expected Content-Type application/json or application/x-ndjson, got ${type}${hint}`);
}

/**
 * Parses a body into events: a JSON object is one event, a JSON array many; NDJSON holds one
 * event per line (blank lines are skipped). Malformed JSON is a 400 that says where: line and
 * column, and the byte offset in the body. More than `maxEvents` events is a 413.
 */
export function parseEvents(text: string, format: BodyFormat, maxEvents: number): ParsedEvents {
  // A UTF-8 byte-order mark may open the body; offsets still count it.
  const start = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  if (isBlank(text, start, text.length)) {
    throw new HttpError(400, 'ERR_NO_EVENTS', 'The body is empty: expected a JSON object (one event), an array of objects, or NDJSON lines');
  }
  return format === 'json' ? parseJson(text, start, maxEvents) : parseNdjson(text, start, maxEvents);
}

function parseJson(text: string, start: number, maxEvents: number): ParsedEvents {
  let value: unknown;
  try {
    value = JSON.parse(start === 0 ? text : text.slice(start));
  } catch {
    throw malformed(text, start, text.length, undefined);
  }
  if (Array.isArray(value)) {
    if (value.length === 0) throw new HttpError(400, 'ERR_NO_EVENTS', 'The array is empty: expected at least one event');
    if (value.length > maxEvents) throw tooManyEvents(maxEvents, value.length);
    return { events: value, lines: undefined };
  }
  return { events: [value], lines: undefined };
}

function parseNdjson(text: string, start: number, maxEvents: number): ParsedEvents {
  const events: unknown[] = [];
  const lines: number[] = [];
  let line = 0;
  for (let from = start; from <= text.length; ) {
    const newline = text.indexOf('\n', from);
    const next = newline === -1 ? text.length + 1 : newline + 1;
    let end = newline === -1 ? text.length : newline;
    if (end > from && text.charCodeAt(end - 1) === 0x0d) end--; // CRLF
    line++;
    if (!isBlank(text, from, end)) {
      if (events.length === maxEvents) throw tooManyEvents(maxEvents, undefined);
      try {
        events.push(JSON.parse(text.slice(from, end)));
      } catch {
        throw malformed(text, from, end, line);
      }
      lines.push(line);
    }
    from = next;
  }
  return { events, lines };
}

function malformed(text: string, start: number, end: number, ndjsonLine: number | undefined): HttpError {
  const found = findJsonSyntaxError(text, start, end);
  if (!found) return new HttpError(400, 'ERR_MALFORMED_JSON', ndjsonLine === undefined ? 'Malformed JSON' : `Malformed JSON on NDJSON line ${ndjsonLine}`);
  const offset = Buffer.byteLength(text.slice(0, found.offset));
  if (ndjsonLine === undefined) {
    const { line, column } = lineAndColumn(text, found.offset, start);
    return new HttpError(400, 'ERR_MALFORMED_JSON', `Malformed JSON at line ${line}, column ${column} (byte ${offset}): ${found.reason}`, {
      details: { line, column, offset },
    });
  }
  const { column } = lineAndColumn(text, found.offset, start);
  return new HttpError(400, 'ERR_MALFORMED_JSON', `Malformed JSON on NDJSON line ${ndjsonLine}, column ${column} (byte ${offset}): ${found.reason}`, {
    details: { line: ndjsonLine, column, offset },
  });
}

function tooManyEvents(max: number, count: number | undefined): HttpError {
  const got = count === undefined ? 'more' : String(count);
  return new HttpError(413, 'ERR_TOO_MANY_EVENTS', `Expected at most ${max} events per request (maxEvents), got ${got}: split the batch`, {
    details: { limit: 'maxEvents', max },
  });
}

function isBlank(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return false;
  }
  return true;
}
