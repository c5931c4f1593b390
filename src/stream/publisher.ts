import { BackpressureError, ClosedError, InvalidOptionError, TimeoutError } from '../errors.js';
import type { RedisConnection } from '../redis/connection.js';
import { isRetryable, toSluiceError } from '../redis/redis-errors.js';

/** How a `Publisher` batches and bounds what it holds. */
export interface PublisherOptions {
  /**
   * Most XADDs sent as one pipelined batch. Every publish made in the same tick joins the batch.
   * @default 1000
   */
  maxBatch?: number;
  /**
   * Most events held at once: waiting to be sent, or sent and awaiting Redis's reply (also
   * through an outage). Bounds the producer's memory whatever Redis does.
   * @default 50000
   */
  maxBuffered?: number;
  /**
   * When the buffer is full: `'block'` waits for room (within the publish timeout),
   * `'reject'` throws `BackpressureError` at once.
   * @default 'block'
   */
  onFull?: 'block' | 'reject';
}

/** Sent once per batch for a stream whose batch included it (XTRIM MINID for `maxAge`). */
export type BatchTrim = { key: string; args: (now: number) => string[] | undefined };

interface Item {
  args: readonly string[];
  trim: BatchTrim | undefined;
  resolve: (id: string) => void;
  reject: (error: Error) => void;
  deadline: number;
  settled: boolean;
  /** The batch the item was last sent in: replies from an earlier attempt are ignored. */
  batch: Batch | undefined;
}

interface Batch {
  items: Item[];
  unsettled: number;
  timer: NodeJS.Timeout | undefined;
}

const DEFAULTS = { maxBatch: 1000, maxBuffered: 50_000, onFull: 'block' as const };

/**
 * Coalesces concurrent publishes into pipelined XADD batches (the guide's step 4, without the
 * caller writing a pipeline), with one deadline timer per batch rather than per event.
 *
 * Delivery is at-least-once: an XADD whose reply was lost with the connection is sent again after
 * the reconnect, so it may be stored twice (idempotency keys make such a retry safe).
 */
export class Publisher {
  readonly #conn: RedisConnection;
  readonly #timeoutMs: number;
  readonly #maxBatch: number;
  readonly #maxBuffered: number;
  readonly #onFull: 'block' | 'reject';
  #queue: Item[] = [];
  #retry: Item[] = [];
  #buffered = 0;
  #flushScheduled = false;
  #retryWaiting = false;
  #retryAttempt = 0;
  #closed = false;
  #spaceWaiters: Array<() => void> = [];
  #idleWaiters: Array<() => void> = [];

  constructor(conn: RedisConnection, timeoutMs: number, options: PublisherOptions = {}) {
    const checked = checkPublisherOptions(options);
    this.#conn = conn;
    this.#timeoutMs = timeoutMs;
    this.#maxBatch = checked.maxBatch;
    this.#maxBuffered = checked.maxBuffered;
    this.#onFull = checked.onFull;
  }

  /** Events waiting to be sent or awaiting their reply. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Queues one XADD (fully built) and resolves to the ID Redis gave it. */
  send(args: readonly string[], trim?: BatchTrim): Promise<string> {
    if (this.#closed) return Promise.reject(new ClosedError('The publisher'));
    if (this.#buffered >= this.#maxBuffered || this.#spaceWaiters.length > 0) return this.#sendWhenRoom(args, trim);
    this.#buffered++;
    return new Promise<string>((resolve, reject) => {
      this.#queue.push({ args, trim, resolve, reject, deadline: 0, settled: false, batch: undefined });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(this.#flush);
      }
    });
  }

  /** Resolves once everything queued so far has been written or has failed. */
  drain(): Promise<void> {
    if (this.#buffered === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Refuses new events, then waits for the buffered ones. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.drain();
  }

  async #sendWhenRoom(args: readonly string[], trim: BatchTrim | undefined): Promise<string> {
    if (this.#onFull === 'reject') {
      throw new BackpressureError(
        50,
        `The producer buffer is full (${this.#maxBuffered} events waiting for Redis): retry later, or raise publisher.maxBuffered`,
      );
    }
    await new Promise<void>((resolve, reject) => {
      const waiter = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#spaceWaiters.splice(this.#spaceWaiters.indexOf(waiter), 1);
        reject(
          new TimeoutError(
            `The producer buffer stayed full (${this.#maxBuffered} events) for ${this.#timeoutMs} ms: Redis is down or slower than the producers`,
          ),
        );
      }, this.#timeoutMs);
      this.#spaceWaiters.push(waiter);
    });
    // The waker handed this caller its slot (#buffered already counts it).
    if (this.#closed) {
      this.#release();
      throw new ClosedError('The publisher');
    }
    return new Promise<string>((resolve, reject) => {
      this.#queue.push({ args, trim, resolve, reject, deadline: 0, settled: false, batch: undefined });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(this.#flush);
      }
    });
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    const queue = this.#queue;
    if (queue.length === 0) return;
    this.#queue = [];
    const now = Date.now();
    for (let start = 0; start < queue.length; start += this.#maxBatch) {
      this.#sendBatch(start === 0 && queue.length <= this.#maxBatch ? queue : queue.slice(start, start + this.#maxBatch), now);
    }
  };

  #sendBatch(items: Item[], now: number): void {
    const batch: Batch = { items, unsettled: items.length, timer: undefined };
    const client = this.#conn.client;
    let trims: Map<string, BatchTrim> | undefined;
    let earliest = Infinity;
    for (const item of items) {
      if (item.deadline === 0) item.deadline = now + this.#timeoutMs;
      if (item.deadline < earliest) earliest = item.deadline;
      item.batch = batch;
      if (item.trim) (trims ??= new Map()).set(item.trim.key, item.trim);
      client.sendCommand<string>(item.args).then(
        (id) => this.#settle(item, batch, id, undefined),
        (error: unknown) => this.#failed(item, batch, error),
      );
    }
    if (trims) {
      for (const trim of trims.values()) {
        const args = trim.args(now);
        // Retention is best effort per batch: a failed trim is redone by the next batch.
        if (args) client.sendCommand(args).catch(() => undefined);
      }
    }
    this.#armTimer(batch, earliest);
  }

  #armTimer(batch: Batch, deadline: number): void {
    batch.timer = setTimeout(() => this.#expire(batch), Math.max(0, deadline - Date.now()));
  }

  /** The batch's earliest deadline passed: fail the overdue events, re-arm for the rest. */
  #expire(batch: Batch): void {
    const now = Date.now();
    let next = Infinity;
    for (const item of batch.items) {
      if (item.settled || item.batch !== batch) continue;
      if (item.deadline <= now) {
        this.#settle(
          item,
          batch,
          undefined,
          new TimeoutError(
            `Redis did not confirm the publish within ${this.#timeoutMs} ms: the event may or may not have been written (use an idempotency key to retry safely)`,
          ),
        );
      } else if (item.deadline < next) next = item.deadline;
    }
    if (batch.unsettled > 0 && next !== Infinity) this.#armTimer(batch, next);
  }

  #failed(item: Item, batch: Batch, error: unknown): void {
    if (item.settled || item.batch !== batch) return;
    if (isRetryable(error) && Date.now() < item.deadline) {
      // Leaves this batch without settling: the retry sends it in a new one.
      item.batch = undefined;
      this.#batchItemDone(batch);
      this.#retry.push(item);
      this.#waitAndRetry(error);
      return;
    }
    this.#settle(item, batch, undefined, toSluiceError(error, 'XADD'));
  }

  #waitAndRetry(cause: unknown): void {
    if (this.#retryWaiting) return;
    this.#retryWaiting = true;
    let earliest = Infinity;
    for (const item of this.#retry) if (item.deadline < earliest) earliest = item.deadline;
    this.#conn.waitReady(earliest, cause, this.#retryAttempt++).then(
      () => {
        this.#retryWaiting = false;
        const retry = this.#retry;
        this.#retry = [];
        // Retried events go first, in their original order.
        this.#queue = retry.concat(this.#queue);
        this.#flush();
      },
      (error: unknown) => {
        this.#retryWaiting = false;
        const now = Date.now();
        const keep: Item[] = [];
        for (const item of this.#retry) {
          if (item.deadline <= now) this.#settle(item, undefined, undefined, toSluiceError(error, 'XADD'));
          else keep.push(item);
        }
        this.#retry = keep;
        if (keep.length > 0) this.#waitAndRetry(cause);
      },
    );
  }

  #settle(item: Item, batch: Batch | undefined, id: string | undefined, error: Error | undefined): void {
    if (item.settled) return;
    item.settled = true;
    if (batch) this.#batchItemDone(batch);
    if (error) item.reject(error);
    else {
      this.#retryAttempt = 0;
      item.resolve(id as string);
    }
    this.#release();
  }

  /** Frees one slot: handed straight to the longest waiting caller, if any. */
  #release(): void {
    if (this.#spaceWaiters.length > 0) {
      (this.#spaceWaiters.shift() as () => void)();
      return;
    }
    this.#buffered--;
    if (this.#buffered === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  #batchItemDone(batch: Batch): void {
    if (--batch.unsettled === 0 && batch.timer) clearTimeout(batch.timer);
  }
}

/** Validates publisher options (so `connect()` can refuse them before opening a connection). */
export function checkPublisherOptions(options: PublisherOptions = {}): Required<PublisherOptions> {
  const onFull = options.onFull ?? DEFAULTS.onFull;
  if (onFull !== 'block' && onFull !== 'reject') throw new InvalidOptionError('publisher.onFull', onFull, '`block` or `reject`');
  return {
    maxBatch: positiveInt('publisher.maxBatch', options.maxBatch ?? DEFAULTS.maxBatch),
    maxBuffered: positiveInt('publisher.maxBuffered', options.maxBuffered ?? DEFAULTS.maxBuffered),
    onFull,
  };
}

function positiveInt(option: string, value: unknown): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1) throw new InvalidOptionError(option, value, 'a whole number ≥ 1');
  return value as number;
}
