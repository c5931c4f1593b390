import { InvalidStreamNameError } from '../errors.js';

const MAX_NAME_LENGTH = 512;

/**
 * Checks a stream name. Names become Redis keys as they are (`events:orders`), and helper keys
 * use the name as a cluster hash tag (`{events:orders}:dlq`), so braces would break the layout.
 */
export function assertStreamName(name: unknown): string {
  if (typeof name !== 'string') throw new InvalidStreamNameError(name, 'expected a string');
  if (name.length === 0) throw new InvalidStreamNameError(name, 'expected a non-empty name like events:orders');
  if (name.length > MAX_NAME_LENGTH) {
    throw new InvalidStreamNameError(name, `expected at most ${MAX_NAME_LENGTH} characters, got ${name.length}`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(name)) {
    throw new InvalidStreamNameError(name, 'expected no spaces or control characters (use `:` or `.` as separators)');
  }
  // Braces only as one leading hash tag, as helper streams have (`{events:orders}:dlq`):
  // anything else would break the `{stream}:…` layout of helper keys.
  if (/[{}]/.test(name) && !HASH_TAGGED.test(name)) {
    throw new InvalidStreamNameError(
      name,
      'expected no `{` or `}` except one leading hash tag like `{events:orders}:dlq`: Sluice uses the name as the hash tag of its helper keys',
    );
  }
  return name;
}

/** `{tag}rest`: a non-empty tag, no other braces. */
const HASH_TAGGED = /^\{[^{}]+\}[^{}]*$/;

/**
 * A helper key of a stream, in the stream's cluster slot: `{events:orders}:dlq`. A name that
 * already starts with a hash tag (a helper stream itself) keeps it: `{events:orders}:dlq:idmp`.
 */
export function helperKey(stream: string, suffix: string): string {
  return HASH_TAGGED.test(stream) ? `${stream}:${suffix}` : `{${stream}}:${suffix}`;
}
