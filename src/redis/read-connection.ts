import { ErrorReply } from '@redis/client';
import type { Socket } from 'node:net';
import { ClosedError, NotConnectedError, RedisServerError, TimeoutError } from '../errors.js';
import { BulkReplyReader } from './bulk-reply-reader.js';
import { redactUrl } from './connection.js';
import { handshakeCommands, parseRedisUrl, type RedisEndpoint } from './pipeline-connection.js';
import { toSluiceError } from './redis-errors.js';
import { CommandEncoder } from './resp-encoder.js';
import { cannotReach, connectFailure, openRedisSocket, waitUntilReady, type ReconnectTarget } from './redis-socket.js';

export interface ReadConnectionOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` for TLS. */
  url: string;
  /** How long one connection attempt (TCP, TLS, AUTH, SELECT) may take. */
  connectTimeoutMs: number;
  /** Added to a blocking read's own wait for its deadline; the deadline of other commands. */
  commandTimeoutMs: number;
  /** Shown by CLIENT LIST. No spaces. */
  clientName: string;
}

interface Pending {
  command: string;
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * A worker's fetch connection: a plain socket for XREADGROUP (and, between blocking reads, XACK),
 * with replies parsed by `BulkReplyReader`.
 *
 * Why not node-redis here: draining a backlog, decoding XREADGROUP replies in node-redis's RESP
 * decoder was ~40% of the worker's CPU profile and encoding XACKs of a thousand IDs another ~14%
 * (its strings are built per argument and flattened on write); see BENCHMARKS.md. Commands are
 * few and large here (one per batch), so a promise per command is fine.
 *
 * It logs in as node-redis would from the same URL (TLS for `rediss://`, `AUTH`, `SELECT`,
 * `CLIENT SETNAME`), has no offline queue (a command sent while disconnected fails at once with
 * `NotConnectedError`), fails the commands in flight when the socket drops, and reconnects with
 * backoff when the caller waits for it (`waitReady`). A command past its deadline fails with
 * `TimeoutError` and drops the connection: a reply that late means the connection is not usable.
 */
export class ReadConnection {
  readonly options: ReadConnectionOptions;
  readonly #endpoint: RedisEndpoint;
  readonly #reader = new BulkReplyReader();
  readonly #encoder = new CommandEncoder();
  readonly #pending: Pending[] = [];
  #socket: Socket | undefined;
  #ready = false;
  #closed = false;
  #connecting: Promise<void> | undefined;
  #lastError: unknown;
  #flushQueued = false;

  private constructor(options: ReadConnectionOptions) {
    this.options = options;
    this.#endpoint = parseRedisUrl(options.url);
  }

  /** A connected, logged-in connection; throws NotConnectedError after `connectTimeoutMs`. */
  static async open(options: ReadConnectionOptions): Promise<ReadConnection> {
    const connection = new ReadConnection(options);
    try {
      await connection.waitReady(Date.now() + options.connectTimeoutMs);
    } catch (error) {
      connection.destroy();
      throw error;
    }
    return connection;
  }

  get isReady(): boolean {
    return this.#ready;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends one command now; its reply, or a typed error (as `RedisConnection.command` throws). */
  send<T = unknown>(args: readonly string[], deadline: number): Promise<T> {
    const command = args[0] as string;
    if (this.#closed) return Promise.reject(new ClosedError('The Redis connection'));
    if (!this.#ready) return Promise.reject(this.#lost(command));
    return this.#write<T>(args, deadline);
  }

  #write<T>(args: readonly string[], deadline: number): Promise<T> {
    const command = args[0] as string;
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = { command, resolve: resolve as (value: unknown) => void, reject, timer: undefined };
      const remaining = deadline - Date.now();
      pending.timer = setTimeout(() => {
        pending.timer = undefined;
        reject(new TimeoutError(`Redis did not answer ${command} in time (${redactUrl(this.options.url)})`));
        const socket = this.#socket;
        if (socket) {
          this.#onClose(socket);
          socket.destroy();
        }
      }, Math.max(0, remaining));
      this.#pending.push(pending);
      this.#encoder.push(args);
      if (!this.#flushQueued) {
        this.#flushQueued = true;
        queueMicrotask(this.#flush);
      }
    });
  }

  /**
   * Commands sent in the same synchronous run (an XACK and the next XREADGROUP) leave in one
   * socket write: each write to a loopback socket costs a system call and wakes redis-server.
   */
  readonly #flush = (): void => {
    this.#flushQueued = false;
    if (this.#encoder.length > 0) this.#socket?.write(this.#encoder.take());
  };

  /** Resolves once connected (see `waitUntilReady`); throws NotConnectedError at the deadline. */
  waitReady(deadline: number, cause?: unknown, attempt = 0): Promise<void> {
    return waitUntilReady(this.#reconnect, deadline, cause, attempt);
  }

  readonly #reconnect: ReconnectTarget = {
    isReady: () => this.#ready,
    isClosed: () => this.#closed,
    lastError: () => this.#lastError,
    setLastError: (error) => (this.#lastError = error),
    connect: (deadline) => (this.#connecting ??= this.#open(deadline).finally(() => (this.#connecting = undefined))),
    notConnected: (cause) => this.#notConnected(cause),
    closedError: () => new ClosedError('The Redis connection'),
  };


  /** Closes at once, failing the commands in flight (it interrupts a blocking read). */
  destroy(): void {
    this.#closed = true;
    const socket = this.#socket;
    if (socket) {
      this.#onClose(socket);
      socket.destroy();
    }
  }

  /** Hands the oldest command its reply (Redis answers in order). */
  readonly #onReply = (reply: unknown): void => {
    const pending = this.#pending.shift();
    if (!pending) throw new Error('Redis sent a reply to no command');
    // Timed out already: the reply is dropped, the connection is going down.
    if (pending.timer === undefined) return;
    clearTimeout(pending.timer);
    if (reply instanceof ErrorReply) pending.reject(toSluiceError(reply, pending.command));
    else pending.resolve(reply);
  };

  /** One connection attempt: TCP (or TLS), then the handshake; resolves when ready. */
  async #open(deadline: number): Promise<void> {
    const timeoutMs = Math.max(1, Math.min(this.options.connectTimeoutMs, deadline - Date.now()));
    const socket = await openRedisSocket(this.#endpoint, timeoutMs, {
      adopt: (socket) => (this.#socket = socket),
      onData: (chunk) => this.#reader.feed(chunk, this.#onReply),
      onClose: (socket) => this.#onClose(socket),
      onError: (error) => (this.#lastError = error),
      handshake: async () => {
        const handshake = handshakeCommands(this.#endpoint, this.options.clientName).map((args) =>
          this.#write(args, deadline).catch((error: unknown) => {
            // A refused CLIENT SETNAME (a renamed CLIENT command…) only costs the name.
            if (args[0] !== 'CLIENT' || !(error instanceof RedisServerError)) throw error;
          }),
        );
        await Promise.all(handshake);
        if (this.#closed) throw new ClosedError('The Redis connection');
      },
    });
    // Closed between the handshake's last reply and now: not ready after all.
    if (this.#socket !== socket) throw this.#lastError ?? new Error('the connection closed');
    this.#ready = true;
    this.#lastError = undefined;
  }

  /** The socket is gone: every command awaiting a reply fails, for the caller to retry. */
  #onClose(socket: Socket): void {
    if (socket !== this.#socket) return;
    this.#socket = undefined;
    this.#ready = false;
    this.#encoder.clear();
    this.#reader.reset();
    const pending = this.#pending.splice(0);
    for (const p of pending) {
      if (p.timer === undefined) continue;
      clearTimeout(p.timer);
      p.reject(this.#closed ? new ClosedError('The Redis connection') : this.#lost(p.command));
    }
  }

  #lost(command: string): NotConnectedError {
    return new NotConnectedError(`Lost the connection to Redis at ${redactUrl(this.options.url)}${connectFailure(this.#lastError)} (${command})`, {
      cause: this.#lastError,
    });
  }

  #notConnected(cause: unknown): NotConnectedError {
    return cannotReach(this.options.url, cause);
  }
}

