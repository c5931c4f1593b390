import { InvalidFieldError } from '../errors.js';
import type { Codec } from '../stream/codec.js';
import { HttpError } from './http-error.js';
import { formatSize, type ResolvedLimits } from './limits.js';

/**
 * Checks every event of a request before any is published, so a bad one refuses the request
 * whole and nothing is half-stored: each must be a JSON object the stream's codec accepts (the
 * codec's own check, so the server refuses exactly what `publish` would), within the field
 * limits, and (fields codec) without integers too large to have been read exactly. Errors name the event's
 * index (and NDJSON line) and the field.
 */
export function checkEvents(events: readonly unknown[], codec: Codec, limits: ResolvedLimits, lines: readonly number[] | undefined): void {
  for (let index = 0; index < events.length; index++) {
    const event = events[index];
    const where = lines === undefined ? `Event ${index}` : `Event ${index} (line ${lines[index]})`;
    const position: Record<string, unknown> = lines === undefined ? { index } : { index, line: lines[index] };
    if (event === null || typeof event !== 'object' || Array.isArray(event)) {
      throw new HttpError(400, 'ERR_INVALID_EVENT', `${where}: expected a JSON object like {"order_id":"12345"}, got ${kindOf(event)}`, { details: position });
    }
    const unsafe = codec.name === 'fields' ? unsafeInteger(event as Record<string, unknown>) : undefined;
    if (unsafe) {
      throw new HttpError(
        400,
        'ERR_INVALID_FIELD',
        `${where}: field \`${unsafe.path}\` holds an integer too large to be stored exactly (beyond 2^53 it reads as ${unsafe.value}): send it as a string`,
        { details: { ...position, field: unsafe.path } },
      );
    }
    let encoded: string[];
    try {
      encoded = codec.encode(event, []);
    } catch (error) {
      if (!(error instanceof InvalidFieldError)) throw error;
      const value = (event as Record<string, unknown>)[error.field];
      const message =
        codec.name === 'fields' && value !== null && typeof value === 'object'
          ? `${where}: field \`${error.field}\` holds ${kindOf(value)}: the fields codec stores flat values (strings, numbers, booleans); add ?codec=json to the URL to store nested data`
          : `${where}: ${error.message}`;
      throw new HttpError(400, 'ERR_INVALID_FIELD', message, {
        details: error.field === '' ? position : { ...position, field: error.field },
        cause: error,
      });
    }
    const fields = encoded.length / 2;
    if (fields > limits.maxFields) {
      throw new HttpError(413, 'ERR_TOO_MANY_FIELDS', `${where}: expected at most ${limits.maxFields} fields per event (maxFields), got ${fields}`, {
        details: { ...position, limit: 'maxFields', max: limits.maxFields },
      });
    }
    for (let i = 1; i < encoded.length; i += 2) {
      const value = encoded[i] as string;
      // UTF-8 takes at most 3 bytes per UTF-16 code unit: most values need no exact count.
      if (value.length * 3 <= limits.maxValueBytes) continue;
      const bytes = Buffer.byteLength(value);
      if (bytes <= limits.maxValueBytes) continue;
      const field = encoded[i - 1] as string;
      throw new HttpError(
        413,
        'ERR_VALUE_TOO_LARGE',
        `${where}: field \`${field}\` holds ${bytes} bytes, over the limit of ${formatSize(limits.maxValueBytes)} per value (maxValue)`,
        { details: { ...position, field, limit: 'maxValue', max: limits.maxValueBytes } },
      );
    }
  }
}

/**
 * The first field holding an integer that JSON parsing may have rounded (beyond
 * Number.MAX_SAFE_INTEGER): an order ID sent as 12345678901234567891 would be stored as the text
 * 12345678901234567000. The fields codec stores values as text, so the loss would be silent.
 * (With the json codec, numbers are JSON numbers: what a JavaScript reader gets either way.)
 */
function unsafeInteger(event: Record<string, unknown>): { path: string; value: number } | undefined {
  for (const name in event) {
    const value = event[name];
    if (typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value)) return { path: name, value };
  }
  return undefined;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}
