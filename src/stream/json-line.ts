import { InvalidInputError, show } from '../errors.js';
import type { Codec } from './codec.js';

/**
 * One line of a JSON Lines input (a file source, `sluice publish --file`) as the event it
 * publishes: a JSON object the stream's codec can store, checked now so that the caller can name
 * the line. Throws `InvalidInputError` saying what is wrong with it; the caller says where it is.
 */
export function eventOfLine(line: string, codec: Codec): unknown {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new InvalidInputError('ERR_INVALID_EVENT', `expected a JSON object, got invalid JSON (${(error as Error).message})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidInputError('ERR_INVALID_EVENT', `expected a JSON object like {"order_id":"12345"}, got ${Array.isArray(value) ? 'an array' : show(value)}`);
  }
  codec.encode(value, []); // InvalidFieldError (an InvalidInputError) for what it cannot store
  return value;
}
