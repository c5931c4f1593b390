/**
 * Every error Sluice throws is a `SluiceError` with a stable `code`. Match on the class or the
 * code, never on the message: messages are written for people and may be improved.
 */
export class SluiceError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A caller passed a value Sluice cannot use. The message names the value and what was expected. */
export class InvalidInputError extends SluiceError {}

/** A stream name that is empty, too long, or would break the `{stream}:…` helper-key layout. */
export class InvalidStreamNameError extends InvalidInputError {
  constructor(readonly value: unknown, reason: string) {
    super('ERR_INVALID_STREAM_NAME', `Invalid stream name ${show(value)}: ${reason}`);
  }
}

/** Not a stream ID (`<ms>-<seq>`, or `<ms>` where a range allows it) nor an accepted special ID. */
export class InvalidStreamIdError extends InvalidInputError {
  constructor(readonly value: unknown, expected: string) {
    super('ERR_INVALID_STREAM_ID', `Expected ${expected}, got ${show(value)}`);
  }
}

/** A time (Date, ISO string, epoch ms) or a duration (`500ms`, `30s`, `7d`) that cannot be read. */
export class InvalidTimeError extends InvalidInputError {
  constructor(readonly value: unknown, expected: string) {
    super('ERR_INVALID_TIME', `Expected ${expected}, got ${show(value)}`);
  }
}

/** An event field that the codec cannot store as it is (an object, `undefined`, a `$` name…). */
export class InvalidFieldError extends InvalidInputError {
  constructor(readonly field: string, message: string) {
    super('ERR_INVALID_FIELD', message);
  }
}

/** An option outside its allowed range or of the wrong type, caught when the object is built. */
export class InvalidOptionError extends InvalidInputError {
  constructor(readonly option: string, readonly value: unknown, expected: string) {
    super('ERR_INVALID_OPTION', `Expected \`${option}\` to be ${expected}, got ${show(value)}`);
  }
}

/** An event that fails the stream's schema, at publish or at read. */
export class SchemaValidationError extends InvalidInputError {
  constructor(
    readonly issues: ReadonlyArray<{ message: string; path?: ReadonlyArray<unknown> }>,
    readonly eventId?: string,
  ) {
    const where = eventId ? ` (event ${eventId})` : '';
    const detail = issues
      .slice(0, 5)
      .map((i) => (i.path && i.path.length ? `${i.path.map(pathPart).join('.')}: ${i.message}` : i.message))
      .join('; ');
    super('ERR_SCHEMA', `Event does not match the schema${where}: ${detail}`);
  }
}

/** An event whose stored fields cannot be decoded by the stream's codec (bad JSON, no `data`). */
export class DecodeError extends SluiceError {
  constructor(readonly eventId: string, message: string, options?: { cause?: unknown }) {
    super('ERR_DECODE', `Cannot decode event ${eventId}: ${message}`, options);
  }
}

/** Redis could not be reached within the operation's timeout. Retrying later may succeed. */
export class NotConnectedError extends SluiceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_NOT_CONNECTED', message, options);
  }
}

/**
 * The operation did not complete within its deadline. For a publish this means the outcome is
 * unknown: the event may or may not have been written (use an idempotency key to retry safely).
 */
export class TimeoutError extends SluiceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_TIMEOUT', message, options);
  }
}

/** Redis answered with an error. `redisCode` is its first word (`WRONGTYPE`, `NOGROUP`, `OOM`…). */
export class RedisServerError extends SluiceError {
  constructor(readonly redisCode: string, message: string, options?: { cause?: unknown }) {
    super(redisCode === 'OOM' ? 'ERR_REDIS_OOM' : 'ERR_REDIS', message, options);
  }
}

/**
 * A limit was reached (the producer's buffer is full, a stream is too far behind). Try again after
 * `retryAfterMs`.
 */
export class BackpressureError extends SluiceError {
  constructor(readonly retryAfterMs: number, message: string) {
    super('ERR_BACKPRESSURE', message);
  }
}

/** The object was closed; it cannot be used any more. */
export class ClosedError extends SluiceError {
  constructor(what: string) {
    super('ERR_CLOSED', `${what} is closed`);
  }
}

/** The managed local redis-server could not be started, stopped or found. */
export class ManagedRedisError extends SluiceError {
  constructor(code: 'ERR_REDIS_NOT_INSTALLED' | 'ERR_MANAGED_REDIS', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

function pathPart(p: unknown): string {
  if (p && typeof p === 'object' && 'key' in p) return String((p as { key: unknown }).key);
  return String(p);
}

/** Renders a bad value for an error message: strings quoted, long values cut. */
export function show(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = `\`${value}\``;
  else if (value instanceof Date) text = Number.isNaN(value.getTime()) ? 'an invalid Date' : value.toISOString();
  else if (typeof value === 'bigint') text = `${value}n`;
  // JSON.stringify would show NaN and ±Infinity as `null`.
  else if (typeof value === 'number') text = String(value);
  else if (value === undefined) text = 'undefined';
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = Object.prototype.toString.call(value);
    }
  }
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/**
 * A publish could not be made as durable as asked: the server cannot confirm fsync at all
 * (`ERR_DURABILITY_UNSUPPORTED`, raised before anything is written), or it did not confirm in
 * time (`ERR_DURABILITY_TIMEOUT`: the event IS stored on the primary, just not yet durable).
 */
export class DurabilityError extends SluiceError {
  constructor(code: 'ERR_DURABILITY_UNSUPPORTED' | 'ERR_DURABILITY_TIMEOUT', message: string, readonly eventId?: string) {
    super(code, message);
  }
}
