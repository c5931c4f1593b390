import { createClient, type RedisClientType } from '@redis/client';
import { hostname } from 'node:os';
import { ClosedError, NotConnectedError, TimeoutError } from '../errors.js';
import { isRetryable, toSluiceError } from './redis-errors.js';

export interface ConnectionOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…` for TLS. */
  url: string;
  /** Deadline of one operation, retries during an outage included. */
  commandTimeoutMs: number;
  /** How long the first connection may take. */
  connectTimeoutMs: number;
  /** Shown by CLIENT LIST, to tell Sluice's connections apart. */
  clientName?: string;
}

export interface CommandOptions {
  /** Absolute deadline (epoch ms); default now + commandTimeoutMs. */
  deadline?: number;
  /**
   * Retry after connection errors and transient server states (LOADING…) until the deadline.
   * Only for commands that are safe to run twice (reads, admin).
   * @default true
   */
  retry?: boolean;
}

/** Reconnect backoff: 50 ms doubling to 2 s, with jitter so many clients don't stampede. */
export function reconnectDelay(retries: number): number {
  const base = Math.min(50 * 2 ** Math.min(retries, 10), 2000);
  return Math.round(base / 2 + Math.random() * (base / 2));
}

/**
 * One Redis connection (node-redis) with the behaviour Sluice needs everywhere: reconnect with
 * backoff, a deadline per operation instead of node-redis's timer per command, no offline queue
 * (commands sent while disconnected fail at once and are retried by Sluice, so nothing piles up
 * in memory unseen), and errors mapped to Sluice's typed errors.
 */
export class RedisConnection {
  readonly client: RedisClientType;
  /** The name CLIENT LIST shows for this connection. */
  readonly clientName: string;
  #closed = false;
  #lastError: unknown;
  /** Set while the first connection is being made. */
  #connectDeadline: number | undefined;
  #closeListeners = new Set<() => void>();

  private constructor(readonly options: ConnectionOptions) {
    this.clientName = options.clientName ?? `sluice:${hostname()}:${process.pid}`;
    this.client = createClient({
      url: options.url,
      // RESP2: flat arrays, parsed the same way on every server version.
      RESP: 2,
      name: this.clientName,
      disableOfflineQueue: true,
      // A timer and AbortSignal per command costs 2–3× throughput; Sluice keeps one deadline per
      // operation or batch instead.
      commandOptions: { timeout: 0 },
      socket: {
        connectTimeout: options.connectTimeoutMs,
        // node-redis sleeps between attempts on a timer nothing can cancel: never sleep past the
        // first connection's deadline, and stop at once when closed, or the process lingers.
        reconnectStrategy: (retries: number) => {
          if (this.#closed) return false;
          const wait = reconnectDelay(retries);
          return this.#connectDeadline === undefined ? wait : Math.max(0, Math.min(wait, this.#connectDeadline - Date.now()));
        },
      },
    }) as unknown as RedisClientType;
    // node-redis reports connection trouble as 'error' events; without a listener Node would
    // crash the process. The last one makes NotConnectedError messages specific.
    this.client.on('error', (error: unknown) => {
      this.#lastError = error;
    });
  }

  static async open(options: ConnectionOptions): Promise<RedisConnection> {
    const connection = new RedisConnection(options);
    await connection.#connect();
    return connection;
  }

  get url(): string {
    return this.options.url;
  }

  get isReady(): boolean {
    return this.client.isReady;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** A new connection to the same server, for a blocking read that must not hold this one up. */
  duplicate(name?: string): Promise<RedisConnection> {
    return RedisConnection.open({ ...this.options, clientName: name ?? this.options.clientName });
  }

  /** Sends one command; retries safe ones through an outage until the deadline. */
  async command<T = unknown>(args: readonly string[], options: CommandOptions = {}): Promise<T> {
    const deadline = options.deadline ?? Date.now() + this.options.commandTimeoutMs;
    const retry = options.retry ?? true;
    for (let attempt = 0; ; attempt++) {
      if (this.#closed) throw new ClosedError('The Redis connection');
      try {
        return await this.#withDeadline(this.client.sendCommand<T>(args), deadline, args[0] as string);
      } catch (error) {
        if (!retry || !isRetryable(error) || this.#closed) throw toSluiceError(error, args[0]);
        await this.waitReady(deadline, error, attempt);
      }
    }
  }

  /** Sends commands as one pipelined batch; results in order (errors as values). */
  async pipeline(commands: readonly (readonly string[])[], options: CommandOptions = {}): Promise<unknown[]> {
    const deadline = options.deadline ?? Date.now() + this.options.commandTimeoutMs;
    const retry = options.retry ?? true;
    for (let attempt = 0; ; attempt++) {
      if (this.#closed) throw new ClosedError('The Redis connection');
      const settled = Promise.all(
        commands.map((args) =>
          this.client.sendCommand(args).then(
            (value) => value,
            (error: unknown) => ({ error }),
          ),
        ),
      );
      const results = await this.#withDeadline(settled, deadline, String(commands[0]?.[0] ?? 'pipeline'));
      const connectionError = results.find((r) => isErrorResult(r) && isRetryable(r.error));
      if (!connectionError) return results.map((r) => (isErrorResult(r) ? toSluiceError(r.error, '') : r));
      if (!retry || this.#closed) throw toSluiceError((connectionError as { error: unknown }).error);
      await this.waitReady(deadline, (connectionError as { error: unknown }).error, attempt);
    }
  }

  /**
   * Resolves when the connection is ready; throws NotConnectedError at the deadline. After a
   * transient server error on a live connection (LOADING…), waits a short backoff instead.
   */
  async waitReady(deadline: number, cause?: unknown, attempt = 0): Promise<void> {
    if (this.#closed) throw new ClosedError('The Redis connection');
    const remaining = deadline - Date.now();
    if (remaining <= 0) throw this.#notConnected(cause);
    if (this.client.isReady) {
      await delay(Math.min(remaining, reconnectDelay(attempt)));
      if (Date.now() >= deadline) throw this.#notConnected(cause);
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.client.off('ready', onReady);
        reject(this.#notConnected(cause));
      }, remaining);
      this.client.once('ready', onReady);
    });
  }

  /**
   * Calls `listener` once when this connection is closed or destroyed, so what depends on it (a
   * blocking read's own connection) can end too. Returns the unsubscribe function.
   */
  onClose(listener: () => void): () => void {
    this.#closeListeners.add(listener);
    return () => this.#closeListeners.delete(listener);
  }

  /** Closes gracefully: replies still due are awaited. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#notifyClose();
    if (this.client.isOpen) {
      await this.client.close().catch(() => this.client.destroy());
    }
  }

  /** Closes at once, failing commands in flight (used to interrupt a blocking read). */
  destroy(): void {
    this.#closed = true;
    this.#notifyClose();
    if (this.client.isOpen) this.client.destroy();
  }

  #notifyClose(): void {
    const listeners = [...this.#closeListeners];
    this.#closeListeners.clear();
    for (const listener of listeners) listener();
  }

  async #connect(): Promise<void> {
    const deadline = Date.now() + this.options.connectTimeoutMs;
    this.#connectDeadline = deadline;
    const connecting = this.client.connect().then(() => undefined);
    try {
      await this.#withDeadline(connecting, deadline, 'connect');
    } catch (error) {
      this.destroy();
      connecting.catch(() => undefined);
      throw this.#notConnected(error instanceof TimeoutError ? this.#lastError ?? error : error);
    } finally {
      this.#connectDeadline = undefined;
    }
  }

  #withDeadline<T>(promise: Promise<T>, deadline: number, what: string): Promise<T> {
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      promise.catch(() => undefined);
      return Promise.reject(new TimeoutError(`Redis did not answer ${what} in time (${this.options.url ? redactUrl(this.options.url) : ''})`));
    }
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new TimeoutError(`Redis did not answer ${what} within ${this.options.commandTimeoutMs} ms (${redactUrl(this.options.url)})`));
      }, remaining);
      promise.then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  #notConnected(cause: unknown): NotConnectedError {
    const reason = describe(cause ?? this.#lastError);
    return new NotConnectedError(
      `Cannot reach Redis at ${redactUrl(this.options.url)}${reason ? ` (${reason})` : ''}: is redis-server running there? Pass --redis URL or set REDIS_URL`,
      { cause: cause ?? this.#lastError },
    );
  }
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

function describe(error: unknown): string {
  if (!error) return '';
  const e = error as { code?: string; message?: string; errors?: unknown[] };
  if (Array.isArray(e.errors) && e.errors.length) return describe(e.errors[0]);
  return e.message || e.code || String(error);
}

function isErrorResult(value: unknown): value is { error: unknown } {
  return typeof value === 'object' && value !== null && 'error' in value && Object.keys(value).length === 1;
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
