import {
  BackpressureError,
  ClosedError,
  InvalidFieldError,
  InvalidInputError,
  NotConnectedError,
  RedisServerError,
  SluiceError,
  TimeoutError,
} from '../errors.js';
import { HttpError } from './http-error.js';

/** How loudly an error answer is logged: client mistakes at debug, overload at warn, faults at error. */
export type ErrorLogLevel = 'debug' | 'warn' | 'error';

/**
 * The HTTP answer for an error thrown while handling a request. Library errors keep their stable
 * `code`; what is about Redis or the server's insides is described in general words (the details
 * go to the log, never a stack trace or an internal address to clients).
 *
 * | error | status |
 * |---|---|
 * | `InvalidInputError` (stream name, field, option…) | 400 |
 * | `BackpressureError` | 429, `Retry-After` from `retryAfterMs` (seconds, rounded up) |
 * | `NotConnectedError`, `TimeoutError`, `ClosedError` | 503, `Retry-After: 1` |
 * | `RedisServerError` `ERR_REDIS_OOM` | 507, `Retry-After: 5` |
 * | `RedisServerError` WRONGTYPE | 409 |
 * | `ERR_NO_STREAM`, `ERR_NO_GROUP` (a group operation on what is not there) | 404 |
 * | `ERR_GROUP_ACTIVE`, `ERR_GROUP_PENDING` (a delete the group's state forbids) | 409 |
 * | anything else | 500 `ERR_INTERNAL` |
 */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof BackpressureError) {
    const seconds = Math.max(1, Math.ceil(error.retryAfterMs / 1000));
    return new HttpError(429, error.code, error.message, { headers: { 'Retry-After': String(seconds) }, details: { retryAfterMs: error.retryAfterMs }, cause: error });
  }
  if (error instanceof InvalidInputError) {
    const details = error instanceof InvalidFieldError && error.field !== '' ? { field: error.field } : undefined;
    return new HttpError(400, error.code, error.message, { details, cause: error });
  }
  if (error instanceof NotConnectedError) {
    return new HttpError(503, error.code, 'Redis is unreachable: try again shortly', { headers: { 'Retry-After': '1' }, cause: error });
  }
  if (error instanceof TimeoutError) {
    return new HttpError(503, error.code, 'Redis did not answer in time: try again shortly', { headers: { 'Retry-After': '1' }, cause: error });
  }
  if (error instanceof ClosedError) {
    return new HttpError(503, 'ERR_SHUTTING_DOWN', 'The server is shutting down: try again shortly', { headers: { 'Retry-After': '1', Connection: 'close' }, cause: error });
  }
  if (error instanceof RedisServerError) {
    if (error.code === 'ERR_REDIS_OOM') {
      return new HttpError(507, error.code, 'Redis is out of memory (maxmemory reached under noeviction): nothing more can be stored until consumers catch up or retention trims the streams', {
        headers: { 'Retry-After': '5' },
        cause: error,
      });
    }
    if (error.redisCode === 'WRONGTYPE') {
      return new HttpError(409, error.code, 'The key of this stream name holds a value that is not a stream: use another name', { cause: error });
    }
  }
  if (error instanceof SluiceError) {
    if (error.code === 'ERR_NO_STREAM' || error.code === 'ERR_NO_GROUP') return new HttpError(404, error.code, error.message, { cause: error });
    if (error.code === 'ERR_GROUP_ACTIVE' || error.code === 'ERR_GROUP_PENDING') return new HttpError(409, error.code, error.message, { cause: error });
  }
  return new HttpError(500, 'ERR_INTERNAL', 'Internal server error', { cause: error });
}

/** The log level of an answer, by its status. */
export function logLevelOf(status: number): ErrorLogLevel {
  if (status === 429 || status === 503 || status === 507) return 'warn';
  if (status >= 500) return 'error';
  return 'debug';
}
