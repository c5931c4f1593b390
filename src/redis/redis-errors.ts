import {
  ClientOfflineError,
  ConnectionTimeoutError,
  ErrorReply,
  SocketClosedUnexpectedlyError,
  SocketTimeoutError,
  TimeoutError as RedisTimeoutError,
} from '@redis/client';
import { NotConnectedError, RedisServerError, SluiceError, TimeoutError } from '../errors.js';

/**
 * Server replies that mean "not now" rather than "no": the server is loading its AOF after a
 * restart, a script is busy, a replica is syncing, a cluster is re-sharding.
 */
const TRANSIENT_REPLIES = new Set(['LOADING', 'BUSY', 'TRYAGAIN', 'MASTERDOWN', 'CLUSTERDOWN']);

/** The first word of a Redis error reply (`WRONGTYPE`, `NOGROUP`, `OOM`, `ERR`…). */
export function redisErrorCode(error: unknown): string | undefined {
  if (!(error instanceof ErrorReply)) return undefined;
  const space = error.message.indexOf(' ');
  return space === -1 ? error.message : error.message.slice(0, space);
}

/** Whether a command that failed this way may succeed if sent again once connected. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof NotConnectedError) return true;
  if (error instanceof ErrorReply) return TRANSIENT_REPLIES.has(redisErrorCode(error) ?? '');
  return (
    error instanceof ClientOfflineError ||
    error instanceof SocketClosedUnexpectedlyError ||
    error instanceof ConnectionTimeoutError ||
    error instanceof SocketTimeoutError ||
    isSocketError(error)
  );
}

/** Maps what node-redis throws to Sluice's typed errors (already-typed errors pass through). */
export function toSluiceError(error: unknown, command?: string): SluiceError {
  if (error instanceof SluiceError) return error;
  const what = command ? ` to ${command}` : '';
  if (error instanceof ErrorReply) {
    const code = redisErrorCode(error) ?? 'ERR';
    const hint = code === 'OOM' ? ' — Redis reached maxmemory under noeviction: raise maxmemory, trim streams, or let consumers catch up' : '';
    return new RedisServerError(code, `Redis replied${what}: ${error.message}${hint}`, { cause: error });
  }
  if (error instanceof RedisTimeoutError) return new TimeoutError(`Redis did not answer${what} in time`, { cause: error });
  if (isRetryable(error)) {
    return new NotConnectedError(`Lost the connection to Redis${what}: ${(error as Error).message}`, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new SluiceError('ERR_UNEXPECTED', `Unexpected error${what}: ${message}`, { cause: error });
}

function isSocketError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTCONN)$/.test(code);
}
