import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { NotConnectedError, RedisServerError, TimeoutError } from '../errors.js';
import { delay, reconnectDelay, redactUrl } from './connection.js';
import type { RedisEndpoint } from './pipeline-connection.js';

/** What one connection attempt needs from the connection class that owns the socket. */
export interface SocketAttempt {
  /** Takes the new socket (the owner writes to it and drops it in `onClose`). */
  adopt(socket: Socket): void;
  /** Each chunk of replies. Throwing means the stream cannot be trusted: the socket is destroyed. */
  onData(chunk: Buffer): void;
  /** The socket is gone (called before the attempt fails, so pending commands fail first). */
  onClose(socket: Socket): void;
  /** The latest socket error, for messages. */
  onError(error: unknown): void;
  /** Logs in on the connected socket (AUTH, SELECT, CLIENT SETNAME); resolves when done. */
  handshake(socket: Socket): Promise<void>;
  /** The socket alone does not keep the process alive. */
  unref?: boolean;
}

/** An attempt that got no ready connection within its time. */
class ConnectTimeoutError extends Error {}

/**
 * One attempt to connect to Redis: TCP or TLS with the socket options node-redis uses, then the
 * owner's handshake, all within `timeoutMs`. Shared by Sluice's own lean connections (publishing,
 * worker reads); everything else goes through node-redis.
 */
export function openRedisSocket(endpoint: RedisEndpoint, timeoutMs: number, attempt: SocketAttempt): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const socket = endpoint.tls
      ? tlsConnect({ host: endpoint.host, port: endpoint.port, servername: isIP(endpoint.host) ? undefined : endpoint.host })
      : netConnect({ host: endpoint.host, port: endpoint.port });
    if (attempt.unref) socket.unref();
    attempt.adopt(socket);
    let settled = false;
    let lastError: unknown;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Drops this socket's pending commands now, before a next attempt could take their replies.
      attempt.onClose(socket);
      socket.destroy();
      reject(error);
    };
    const timer = setTimeout(() => fail(new ConnectTimeoutError(`no connection within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      try {
        attempt.onData(chunk);
      } catch (error) {
        // Not RESP, or a reply to nothing: the stream cannot be trusted from here on.
        lastError = error;
        attempt.onError(error);
        attempt.onClose(socket);
        socket.destroy();
      }
    });
    socket.on('error', (error: Error) => {
      lastError = error;
      attempt.onError(error);
    });
    socket.once('close', () => {
      attempt.onClose(socket);
      fail(lastError ?? new Error('the connection closed'));
    });
    socket.once(endpoint.tls ? 'secureConnect' : 'connect', () => {
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 30_000);
      attempt.handshake(socket).then(() => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(socket);
      }, fail);
    });
  });
}

/** What `waitUntilReady` needs from a lean connection. */
export interface ReconnectTarget {
  isReady(): boolean;
  isClosed(): boolean;
  /** The last connection error, kept for messages. */
  lastError(): unknown;
  setLastError(error: unknown): void;
  /** One connection attempt (joined if one is running). */
  connect(deadline: number): Promise<void>;
  notConnected(cause: unknown): Error;
  closedError(): Error;
}

/**
 * Resolves once the connection is ready, connecting (again) with backoff as needed; throws
 * NotConnectedError at the deadline. With a `cause` on a live connection (a transient reply such
 * as LOADING), waits a short backoff instead, as `RedisConnection.waitReady` does.
 */
export async function waitUntilReady(target: ReconnectTarget, deadline: number, cause?: unknown, attempt = 0): Promise<void> {
  if (target.isReady() && cause !== undefined) {
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw target.notConnected(cause);
    await delay(Math.min(remaining, reconnectDelay(attempt)));
    if (Date.now() >= deadline) throw target.notConnected(cause);
    return;
  }
  for (let retries = 0; ; retries++) {
    if (target.isClosed()) throw target.closedError();
    if (target.isReady()) return;
    if (deadline - Date.now() <= 0) throw target.notConnected(target.lastError() ?? cause);
    try {
      await target.connect(deadline);
    } catch (error) {
      // The server's reason for refusing (WRONGPASS…) says more than the last attempt, cut short by
      // the deadline, timing out: keep it for the error the caller gets.
      const timedOut = error instanceof ConnectTimeoutError || error instanceof TimeoutError;
      if (!(timedOut && target.lastError() instanceof RedisServerError)) target.setLastError(error);
      const left = deadline - Date.now();
      if (left > 0 && !target.isClosed()) await delay(Math.min(left, reconnectDelay(retries)));
    }
  }
}

/** The error of a connection that cannot reach Redis: the URL (password hidden), why, what to do. */
export function cannotReach(url: string, cause: unknown): NotConnectedError {
  return new NotConnectedError(`Cannot reach Redis at ${redactUrl(url)}${connectFailure(cause)}: is redis-server running there? Pass --redis URL or set REDIS_URL`, { cause });
}

/** ` (why)` for a failed connection; an AggregateError (every address refused) says its first. */
export function connectFailure(error: unknown): string {
  if (!error) return '';
  const e = error as { code?: string; message?: string; errors?: unknown[] };
  if (Array.isArray(e.errors) && e.errors.length) return connectFailure(e.errors[0]);
  const text = e.message || e.code || String(error);
  return text ? ` (${text})` : '';
}
