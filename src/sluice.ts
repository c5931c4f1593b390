import { ClosedError, InvalidOptionError } from './errors.js';
import { detectCapabilities, type Capabilities } from './redis/capabilities.js';
import { RedisConnection } from './redis/connection.js';
import { startManagedRedis, type ManagedRedisOptions } from './redis/managed-server.js';
import type { FieldsEvent, FieldsInput, JsonEvent } from './stream/event.js';
import { checkPublisherOptions, Publisher, type PublisherOptions } from './stream/publisher.js';
import { Stream, type StreamContext, type StreamOptions } from './stream/stream.js';
import type { Worker } from './consumer/worker.js';
import { logger, type Logger } from './observe/logger.js';
import { TypedEmitter } from './observe/typed-emitter.js';
import type { ProducerEmitter, ProducerEvents } from './stream/producer-events.js';
import { parseDuration } from './stream/time.js';

export interface ConnectOptions {
  /**
   * `redis://[user:password@]host:port[/db]`, or `rediss://…` for TLS.
   * @default process.env.REDIS_URL, else the managed local redis-server (started if needed)
   */
  url?: string;
  /**
   * Deadline of one operation, including retries while Redis is unreachable; then the operation
   * fails with `NotConnectedError` or `TimeoutError` instead of hanging.
   * @default '10s'
   */
  commandTimeout?: number | string;
  /**
   * How long the first connection may take.
   * @default '5s'
   */
  connectTimeout?: number | string;
  /** Batching and buffer bounds of the shared publisher. */
  publisher?: PublisherOptions;
  /** Where the managed local redis-server lives, when no URL is given. */
  managed?: ManagedRedisOptions;
  /**
   * The pino logger Sluice writes to: workers (errors, reclaims, dead letters, each with stream,
   * group, consumer and event ID), retention passes, and handlers' `ctx.log` (a child of it).
   * @default JSON lines on stderr, level from SLUICE_LOG_LEVEL (else `info`)
   * @example connect({ logger: pino({ level: 'debug' }) })
   */
  logger?: Logger;
}

/** What a `Sluice` shares with its streams besides the connection and the publisher. */
interface SluiceRuntime {
  events: ProducerEmitter;
  log: Logger;
}

/** A connection to Redis and the streams on it. Create with `connect()`, end with `close()`. */
export class Sluice {
  readonly #conn: RedisConnection;
  readonly #publisher: Publisher;
  #capabilities: Promise<Capabilities> | undefined;
  readonly #workers = new Set<Worker>();
  readonly #events: ProducerEmitter;
  readonly #log: Logger;
  #closed = false;

  /** @internal use `connect()` */
  constructor(conn: RedisConnection, publisher: Publisher, runtime: SluiceRuntime) {
    this.#conn = conn;
    this.#publisher = publisher;
    this.#events = runtime.events;
    this.#log = runtime.log;
  }

  /**
   * Subscribes to what this connection's producers report: `published` (events stored, per stream
   * and batch), `batch` (each pipelined batch, its size and time) and `backpressure` (a publish
   * held back or refused). See `ProducerEvents`. Unheard events are never built.
   */
  on<K extends keyof ProducerEvents>(name: K, listener: (payload: ProducerEvents[K]) => void): this {
    this.#events.on(name, listener);
    return this;
  }

  off<K extends keyof ProducerEvents>(name: K, listener: (payload: ProducerEvents[K]) => void): this {
    this.#events.off(name, listener);
    return this;
  }

  once<K extends keyof ProducerEvents>(name: K, listener: (payload: ProducerEvents[K]) => void): this {
    this.#events.once(name, listener);
    return this;
  }

  /** The Redis URL in use (the managed server's when none was given). */
  get url(): string {
    return this.#conn.url;
  }

  /** The underlying connection, for commands Sluice has no method for. */
  get connection(): RedisConnection {
    return this.#conn;
  }

  /** A stream by name. Cheap: no I/O happens until it is used. */
  stream(name: string, options?: StreamOptions & { codec?: 'fields' }): Stream<FieldsInput, FieldsEvent>;
  stream<T = unknown>(name: string, options: StreamOptions & { codec: 'json' }): Stream<T, JsonEvent<T>>;
  stream<I, E>(name: string, options?: StreamOptions): Stream<I, E>;
  stream<I, E>(name: string, options: StreamOptions = {}): Stream<I, E> {
    if (this.#closed) throw new ClosedError('This Sluice connection');
    return new Stream(this.#streamContext(), name, options);
  }

  /** Names of the streams on the server (SCAN … TYPE stream), sorted. */
  async streams(match = '*'): Promise<string[]> {
    const names = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await this.#conn.command<[string, string[]]>(['SCAN', cursor, 'MATCH', match, 'COUNT', '1000', 'TYPE', 'stream']);
      cursor = next;
      for (const key of keys) names.add(key);
    } while (cursor !== '0');
    return [...names].sort();
  }

  /** What the server supports natively (detected once, by command presence). */
  capabilities(): Promise<Capabilities> {
    this.#capabilities ??= detectCapabilities(this.#conn).catch((error: unknown) => {
      this.#capabilities = undefined;
      throw error;
    });
    return this.#capabilities;
  }

  /** Waits for every event published so far to be confirmed or failed. */
  flush(): Promise<void> {
    return this.#publisher.drain();
  }

  /**
   * Closes the workers started from this connection's streams (gracefully, with `timeout`),
   * flushes pending publishes, then closes the connection. Safe to call twice.
   */
  async close(options: { timeout?: number } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#workers].map((worker) => worker.close(options)));
    await this.#publisher.close();
    await this.#conn.close();
  }

  #streamContext(): StreamContext {
    return {
      conn: this.#conn,
      publisher: this.#publisher,
      capabilities: () => this.capabilities(),
      log: this.#log,
      events: this.#events,
      timeoutMs: this.#conn.options.commandTimeoutMs,
      track: (worker) => {
        this.#workers.add(worker);
        void worker.closed.then(() => this.#workers.delete(worker));
      },
    };
  }
}

/**
 * Connects to Redis: `options.url`, else `REDIS_URL`, else the managed local redis-server
 * (started on first use under `.sluice/redis`, reused afterwards).
 */
export async function connect(options: ConnectOptions = {}): Promise<Sluice> {
  if (options === null || typeof options !== 'object') throw new InvalidOptionError('options', options, 'an object');
  const commandTimeoutMs = parseDuration(options.commandTimeout ?? 10_000, 'commandTimeout');
  const connectTimeoutMs = parseDuration(options.connectTimeout ?? 5_000, 'connectTimeout');
  // An empty REDIS_URL counts as unset, as shells make it easy to export one by accident.
  const envUrl = process.env.REDIS_URL || undefined;
  if (options.url === undefined && envUrl !== undefined) checkUrl(envUrl, 'REDIS_URL (environment)');
  else checkUrl(options.url ?? 'redis://managed', 'url');
  const url = options.url ?? envUrl ?? (await startManagedRedis(options.managed)).url;
  checkPublisherOptions(options.publisher);
  const log = checkLogger(options.logger) ?? logger;
  const conn = await RedisConnection.open({ url, commandTimeoutMs, connectTimeoutMs });
  const events: ProducerEmitter = new TypedEmitter<ProducerEvents>((name, payload) => {
    // A listener threw: the emitter reports it as `error`, an event producers do not have.
    if ((name as string) === 'error') {
      const { error, context } = payload as unknown as { error: unknown; context: string };
      log.error({ err: error }, `${context} threw`);
    }
  });
  return new Sluice(conn, new Publisher(conn, commandTimeoutMs, options.publisher, events), { events, log });
}

function checkLogger(value: unknown): Logger | undefined {
  if (value === undefined) return undefined;
  const candidate = value as Partial<Logger> | null;
  if (candidate === null || typeof candidate !== 'object' || typeof candidate.child !== 'function' || typeof candidate.error !== 'function') {
    throw new InvalidOptionError('logger', value, 'a pino logger, e.g. pino({ level: "debug" })');
  }
  return value as Logger;
}

function checkUrl(url: unknown, option: string): void {
  const expected = 'a Redis URL like redis://127.0.0.1:6379, redis://user:password@host:6379/0 or rediss://host:6380 (TLS)';
  if (typeof url !== 'string') throw new InvalidOptionError(option, url, expected);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new InvalidOptionError(option, url, expected);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new InvalidOptionError(option, url, expected);
}
