import { ErrorReply } from '@redis/client';
import type { Socket } from 'node:net';
import { ClosedError, InvalidOptionError, NotConnectedError } from '../errors.js';
import { redactUrl } from './connection.js';
import { toSluiceError } from './redis-errors.js';
import { CommandEncoder } from './resp-encoder.js';
import { RespReader } from './resp-reader.js';
import { cannotReach, connectFailure, openRedisSocket, waitUntilReady, type ReconnectTarget } from './redis-socket.js';

export interface PipelineConnectionOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` for TLS. */
  url: string;
  /** How long one connection attempt (TCP, TLS, AUTH, SELECT) may take. */
  connectTimeoutMs: number;
  /** Shown by CLIENT LIST. No spaces. */
  clientName: string;
}

/** Receives the reply to a command given to `write`, with the token given there. */
export interface ReplyHandler<T> {
  /** `error` is set for an error reply (node-redis `SimpleError`) or a lost connection. */
  onReply(token: T, error: Error | undefined, reply: unknown): void;
}

/** Where a Redis URL points, and how to log in. */
export interface RedisEndpoint {
  host: string;
  port: number;
  tls: boolean;
  username?: string;
  password?: string;
  db: number;
}

/** Parses a `redis://` / `rediss://` URL the way node-redis does. */
export function parseRedisUrl(url: string): RedisEndpoint {
  const expected = 'a Redis URL like redis://127.0.0.1:6379, redis://user:password@host:6379/0 or rediss://host:6380 (TLS)';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidOptionError('url', url, expected);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new InvalidOptionError('url', url, expected);
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  if (!Number.isSafeInteger(db) || db < 0) throw new InvalidOptionError('url', url, `${expected}; the path is a database number`);
  const endpoint: RedisEndpoint = {
    // IPv6 literals come bracketed: [::1]
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost',
    port: parsed.port ? Number(parsed.port) : 6379,
    tls: parsed.protocol === 'rediss:',
    db,
  };
  if (parsed.username) endpoint.username = decodeURIComponent(parsed.username);
  if (parsed.password) endpoint.password = decodeURIComponent(parsed.password);
  return endpoint;
}

/** What a fresh connection sends before it is used (node-redis's RESP2 handshake). */
export function handshakeCommands(endpoint: RedisEndpoint, clientName: string): string[][] {
  const commands: string[][] = [];
  if (endpoint.username !== undefined) commands.push(['AUTH', endpoint.username, endpoint.password ?? '']);
  else if (endpoint.password !== undefined) commands.push(['AUTH', endpoint.password]);
  if (endpoint.db !== 0) commands.push(['SELECT', String(endpoint.db)]);
  commands.push(['CLIENT', 'SETNAME', clientName]);
  return commands;
}

const INITIAL_CAPACITY = 1024;

/**
 * The publisher's own connection: a plain socket that writes a whole batch of commands as one
 * buffer and parses the replies with a minimal RESP2 reader.
 *
 * Why not node-redis here: per command it allocates a promise, a queue node, tracing closures and
 * an encoded string, and hands the socket one write per command (a writev of thousands of chunks
 * per batch). Publishing 200k events, that write path was 42% of the CPU profile, GC another 33%,
 * and Sluice stayed below a hand-written node-redis pipeline; see BENCHMARKS.md. Only the publish
 * hot path uses this connection; everything else stays on node-redis (`RedisConnection`).
 *
 * It logs in as a node-redis connection would from the same URL: TLS for `rediss://`,
 * `AUTH [user] password`, `SELECT db`, `CLIENT SETNAME`. It connects on first use and reconnects,
 * with the same backoff, when a caller waits for it. It has no offline queue: `write` refuses
 * commands while disconnected, and commands in flight when the connection drops fail with
 * `NotConnectedError`, for the publisher to retry.
 */
export class PipelineConnection {
  readonly #options: PipelineConnectionOptions;
  readonly #endpoint: RedisEndpoint;
  readonly #reader = new RespReader();
  #socket: Socket | undefined;
  #ready = false;
  #closed = false;
  #connecting: Promise<void> | undefined;
  #lastError: unknown;
  /** Commands encoded by `write` and not yet handed to the socket by `flush`. */
  readonly #out = new CommandEncoder();
  // Commands sent and awaiting their reply, oldest first (Redis answers in order): a ring of
  // handler/token pairs, so the hot path allocates nothing per command here.
  #handlers: Array<ReplyHandler<unknown> | undefined> = new Array(INITIAL_CAPACITY);
  #tokens: unknown[] = new Array(INITIAL_CAPACITY);
  #head = 0;
  #size = 0;
  #onIdle: (() => void) | undefined;

  constructor(options: PipelineConnectionOptions) {
    this.#options = options;
    this.#endpoint = parseRedisUrl(options.url);
  }

  /** Connected and logged in: `write` accepts commands. */
  get isReady(): boolean {
    return this.#ready;
  }

  /**
   * Encodes a command to be sent by the next `flush` (call it once per batch); its reply goes to
   * `handler.onReply(token, …)`, never synchronously. Returns false, taking nothing, when the
   * connection is not ready.
   */
  write<T>(args: readonly string[], handler: ReplyHandler<T>, token: T): boolean {
    if (!this.#ready) return false;
    this.#enqueue(args, handler as ReplyHandler<unknown>, token);
    return true;
  }

  /**
   * A command encoded earlier (`bytes[start, end)`, taken from what `flush` returned), sent again
   * as is; otherwise like `write`.
   */
  writeEncoded<T>(bytes: Buffer, start: number, end: number, handler: ReplyHandler<T>, token: T): boolean {
    if (!this.#ready) return false;
    this.#out.pushEncoded(bytes, start, end);
    this.#expectReply(handler as ReplyHandler<unknown>, token);
    return true;
  }

  /** Bytes written and not flushed yet: where the next command will start in what `flush` returns. */
  get pendingBytes(): number {
    return this.#out.length;
  }

  /**
   * Sends what `write` encoded, as one socket write, and returns those bytes: they are never
   * overwritten, so a command in them can be sent again (`writeEncoded`).
   */
  flush(): Buffer | undefined {
    if (this.#out.length === 0) return undefined;
    const bytes = this.#out.take();
    this.#socket?.write(bytes);
    return bytes;
  }

  /** Resolves once connected (see `waitUntilReady`); throws NotConnectedError at the deadline. */
  waitReady(deadline: number, cause?: unknown, attempt = 0): Promise<void> {
    return waitUntilReady(this.#reconnect, deadline, cause, attempt);
  }

  readonly #reconnect: ReconnectTarget = {
    isReady: () => this.#ready,
    isClosed: () => this.#closed,
    lastError: () => this.#lastError,
    setLastError: (error) => (this.#lastError = error),
    connect: (deadline) => this.#connect(deadline),
    notConnected: (cause) => this.#notConnected(cause),
    closedError: () => new ClosedError('The publisher connection'),
  };


  /** Waits for the replies still due, then closes. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const socket = this.#socket;
    if (!socket) return;
    if (this.#size > 0) {
      // Replies still due (a batch's XTRIM) keep the process alive until they arrive, bounded: a
      // server that stopped answering must not hold close() forever.
      socket.ref();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#options.connectTimeoutMs);
        this.#onIdle = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    await this.#destroySocket(socket);
  }

  #enqueue(args: readonly string[], handler: ReplyHandler<unknown>, token: unknown): void {
    this.#out.push(args);
    this.#expectReply(handler, token);
  }

  #expectReply(handler: ReplyHandler<unknown>, token: unknown): void {
    const capacity = this.#handlers.length;
    if (this.#size === capacity) this.#grow();
    const slot = (this.#head + this.#size) & (this.#handlers.length - 1);
    this.#handlers[slot] = handler;
    this.#tokens[slot] = token;
    this.#size++;
  }

  #grow(): void {
    const capacity = this.#handlers.length;
    const handlers: Array<ReplyHandler<unknown> | undefined> = new Array(capacity * 2);
    const tokens: unknown[] = new Array(capacity * 2);
    for (let i = 0; i < this.#size; i++) {
      const slot = (this.#head + i) & (capacity - 1);
      handlers[i] = this.#handlers[slot];
      tokens[i] = this.#tokens[slot];
    }
    this.#handlers = handlers;
    this.#tokens = tokens;
    this.#head = 0;
  }

  /** Hands the oldest pending command its reply. */
  readonly #onReply = (reply: unknown): void => {
    if (this.#size === 0) throw new Error('Redis sent a reply to no command');
    this.#deliver(reply instanceof Error ? reply : undefined, reply);
  };

  #deliver(error: Error | undefined, reply: unknown): void {
    const slot = this.#head;
    const handler = this.#handlers[slot] as ReplyHandler<unknown>;
    const token = this.#tokens[slot];
    this.#handlers[slot] = undefined;
    this.#tokens[slot] = undefined;
    this.#head = (slot + 1) & (this.#handlers.length - 1);
    this.#size--;
    handler.onReply(token, error, reply);
    if (this.#size === 0) this.#onIdle?.();
  }

  #connect(deadline: number): Promise<void> {
    this.#connecting ??= this.#open(deadline).finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  /** One connection attempt: TCP (or TLS), then the handshake; resolves when ready. */
  async #open(deadline: number): Promise<void> {
    const timeoutMs = Math.max(1, Math.min(this.#options.connectTimeoutMs, deadline - Date.now()));
    const socket = await openRedisSocket(this.#endpoint, timeoutMs, {
      // The connection alone never keeps the process alive: publishes awaiting a reply do, through
      // their batch's deadline timer.
      unref: true,
      adopt: (socket) => (this.#socket = socket),
      onData: (chunk) => this.#reader.feed(chunk, this.#onReply),
      onClose: (socket) => this.#onClose(socket),
      onError: (error) => (this.#lastError = error),
      handshake: (socket) => this.#handshake(socket),
    });
    // Closed between the handshake's last reply and now: not ready after all.
    if (this.#socket !== socket) throw this.#lastError ?? new Error('the connection closed');
    this.#ready = true;
    this.#lastError = undefined;
  }

  #handshake(socket: Socket): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const commands = handshakeCommands(this.#endpoint, this.#options.clientName);
      let remaining = commands.length;
      let failed = false;
      const handshake: ReplyHandler<string> = {
        onReply: (command, error) => {
          if (failed) return;
          if (error instanceof ErrorReply) {
            // A refused CLIENT SETNAME (a renamed CLIENT command…) only costs the name.
            if (command !== 'CLIENT') {
              failed = true;
              return reject(toSluiceError(error, command));
            }
          } else if (error) {
            failed = true;
            return reject(error); // the connection dropped during the handshake
          }
          if (--remaining > 0) return;
          if (this.#closed) return reject(new ClosedError('The publisher connection'));
          resolve();
        },
      };
      for (const args of commands) this.#enqueue(args, handshake as ReplyHandler<unknown>, args[0]);
      socket.write(this.#out.take());
    });
  }

  /** The socket is gone: everything awaiting a reply fails, in order, for the caller to retry. */
  #onClose(socket: Socket): void {
    if (socket !== this.#socket) return;
    this.#socket = undefined;
    this.#ready = false;
    this.#out.clear();
    this.#reader.reset();
    const error = this.#closed
      ? new ClosedError('The publisher connection')
      : new NotConnectedError(`Lost the connection to Redis at ${redactUrl(this.#options.url)}${connectFailure(this.#lastError)}`, { cause: this.#lastError });
    while (this.#size > 0) this.#deliver(error, undefined);
  }

  #destroySocket(socket: Socket): Promise<void> {
    return new Promise((resolve) => {
      if (socket.closed) return resolve();
      socket.once('close', () => resolve());
      socket.destroy();
    });
  }

  #notConnected(cause: unknown): NotConnectedError {
    return cannotReach(this.#options.url, cause);
  }
}

