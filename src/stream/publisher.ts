import { BackpressureError, ClosedError, DurabilityError, InvalidOptionError, NotConnectedError, SluiceError, TimeoutError } from '../errors.js';
import type { RedisConnection } from '../redis/connection.js';
import { PipelineConnection, type ReplyHandler } from '../redis/pipeline-connection.js';
import { isRetryable, redisErrorCode, toSluiceError } from '../redis/redis-errors.js';
import type { ProducerEmitter } from './producer-events.js';

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

/**
 * A command sent once after a batch's writes, that the publishes asking for it wait for: WAIT /
 * WAITAOF for durability. It must go on the publisher's connection, since both only cover the
 * writes of their own connection. `check` throws when the reply falls short.
 */
export interface FollowUp {
  args: readonly string[];
  check(reply: unknown, eventId: string): void;
}

/** What a publish may need beyond its command. Absent on the plain XADD path (no cost there). */
export interface SendExtras {
  trim?: BatchTrim;
  followUp?: FollowUp;
  /** The command is an EVALSHA of this script: on NOSCRIPT (a restarted server) it is loaded and sent again. */
  script?: { source: string };
}

interface Item {
  args: readonly string[];
  trim: BatchTrim | undefined;
  extras: SendExtras | undefined;
  /** The ID, once stored, while the item waits for its follow-up's reply. */
  id: string | undefined;
  /** NOSCRIPT reloads so far (bounded, so a server that refuses scripts cannot loop us). */
  reloads: number;
  resolve: (id: string) => void;
  reject: (error: Error) => void;
  /** Epoch ms after which the publish fails; set when the item is first flushed. */
  deadline: number;
  settled: boolean;
  /** The batch the item is in flight in; undefined while queued or waiting for a retry. */
  batch: Batch | undefined;
}

interface Batch {
  items: Item[];
  unsettled: number;
  timer: NodeJS.Timeout | undefined;
  /** performance.now() at the write, only when someone listens to `batch` or `published`. */
  started: number | undefined;
  /** Stored events per stream, counted only when `started` is set. */
  stored: Map<string, number> | undefined;
}

const DEFAULTS = { maxBatch: 1000, maxBuffered: 50_000, onFull: 'block' as const };

/**
 * Coalesces concurrent publishes into pipelined XADD batches (the guide's step 4, without the
 * caller writing a pipeline), with one deadline timer per batch rather than per event.
 *
 * Batches go over the publisher's own connection (`PipelineConnection`: one socket write per
 * batch, minimal reply parsing), opened on the first publish from the URL of `conn`; everything
 * else Sluice does stays on `conn` (node-redis). See BENCHMARKS.md for why.
 *
 * Order: one caller's events are written in the order of its calls. When some must be retried
 * (the connection dropped, Redis is LOADING), events published meanwhile wait behind them.
 *
 * Delivery is at-least-once: an XADD whose reply was lost with the connection is sent again after
 * the reconnect, so it may be stored twice (idempotency keys make such a retry safe).
 */
export class Publisher {
  readonly #pipe: PipelineConnection;
  readonly #timeoutMs: number;
  readonly #maxBatch: number;
  readonly #maxBuffered: number;
  readonly #onFull: 'block' | 'reject';
  readonly #events: ProducerEmitter | undefined;
  /** Published, not yet flushed. */
  #queue: Item[] = [];
  /** Failed with a retryable error, or held behind such: sent again, first, once Redis is back. */
  #retry: Item[] = [];
  #buffered = 0;
  #flushScheduled = false;
  #retryWaiting = false;
  #retryAttempt = 0;
  #closed = false;
  #spaceWaiters: Array<() => void> = [];
  /** Scripts with a SCRIPT LOAD sent after NOSCRIPT and not answered yet. */
  readonly #loadingScripts = new Set<{ source: string }>();
  #idleWaiters: Array<() => void> = [];

  /** `events`: where batches, stored events and full-buffer waits are reported (the connection's). */
  constructor(conn: RedisConnection, timeoutMs: number, options: PublisherOptions = {}, events?: ProducerEmitter) {
    const checked = checkPublisherOptions(options);
    this.#pipe = new PipelineConnection({
      url: conn.options.url,
      connectTimeoutMs: conn.options.connectTimeoutMs,
      clientName: `${conn.clientName}:publisher`,
    });
    this.#timeoutMs = timeoutMs;
    this.#events = events;
    this.#maxBatch = checked.maxBatch;
    this.#maxBuffered = checked.maxBuffered;
    this.#onFull = checked.onFull;
  }

  /** Events waiting to be sent or awaiting their reply. */
  get buffered(): number {
    return this.#buffered;
  }

  /**
   * Queues one XADD (fully built; or an EVALSHA whose reply starts with the ID) and resolves to the
   * ID Redis gave it.
   */
  send(args: readonly string[], trim?: BatchTrim, extras?: SendExtras): Promise<string> {
    if (this.#closed) return Promise.reject(new ClosedError('The publisher'));
    if (this.#buffered >= this.#maxBuffered || this.#spaceWaiters.length > 0) return this.#sendWhenRoom(args, trim, extras);
    this.#buffered++;
    return this.#enqueue(args, trim, extras);
  }

  /** Resolves once everything queued so far has been written or has failed. */
  drain(): Promise<void> {
    if (this.#buffered === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Refuses new events, waits for the buffered ones, then closes the publisher's connection. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.drain();
    await this.#pipe.close();
  }

  /** Takes a slot already counted in #buffered. `deadline` 0: the timeout starts at the flush. */
  #enqueue(args: readonly string[], trim: BatchTrim | undefined, extras: SendExtras | undefined, deadline = 0): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      this.#queue.push({ args, trim, extras, id: undefined, reloads: 0, resolve, reject, deadline, settled: false, batch: undefined });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(this.#flush);
      }
    });
  }

  async #sendWhenRoom(args: readonly string[], trim: BatchTrim | undefined, extras: SendExtras | undefined): Promise<string> {
    if (this.#onFull === 'reject') {
      this.#reportFull(args, 'reject', 0);
      throw new BackpressureError(
        50,
        `The producer buffer is full (${this.#maxBuffered} events waiting for Redis): retry later, or raise publisher.maxBuffered`,
      );
    }
    // The publish timeout counts from the call: a caller handed a slot late (by a publish that
    // failed at its own deadline) must not get a second full timeout on top of its wait.
    const waitStarted = Date.now();
    const deadline = waitStarted + this.#timeoutMs;
    const waited = new Promise<void>((resolve, reject) => {
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
    try {
      await waited;
    } catch (error) {
      this.#reportFull(args, 'reject', Date.now() - waitStarted);
      throw error;
    }
    this.#reportFull(args, 'wait', Date.now() - waitStarted);
    // The waker handed this caller its slot (#buffered already counts it).
    if (this.#closed) {
      this.#release();
      throw new ClosedError('The publisher');
    }
    return this.#enqueue(args, trim, extras, deadline);
  }

  #reportFull(args: readonly string[], action: 'wait' | 'reject', waitMs: number): void {
    const events = this.#events;
    if (events?.has('backpressure')) events.emit('backpressure', { stream: streamOf(args), action, waitMs, limit: 'buffer' });
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    const queue = this.#queue;
    if (queue.length === 0) return;
    this.#queue = [];
    const now = Date.now();
    for (const item of queue) if (item.deadline === 0) item.deadline = now + this.#timeoutMs;
    if (this.#retryWaiting || !this.#pipe.isReady) {
      // Behind the events being retried (order), or not connected yet (the first publish):
      // these wait for the connection with the retries.
      for (const item of queue) this.#retry.push(item);
      this.#waitAndRetry(undefined);
      return;
    }
    for (let start = 0; start < queue.length; start += this.#maxBatch) {
      this.#sendBatch(start === 0 && queue.length <= this.#maxBatch ? queue : queue.slice(start, start + this.#maxBatch), now);
    }
  };

  #sendBatch(items: Item[], now: number): void {
    const events = this.#events;
    const observed = events !== undefined && (events.has('batch') || events.has('published'));
    const batch: Batch = { items, unsettled: items.length, timer: undefined, started: observed ? performance.now() : undefined, stored: undefined };
    const pipe = this.#pipe;
    let trims: Map<string, BatchTrim> | undefined;
    let followUps: Map<FollowUp, FollowUpGroup> | undefined;
    let earliest = Infinity;
    for (const item of items) {
      if (item.deadline < earliest) earliest = item.deadline;
      item.batch = batch;
      item.id = undefined;
      if (item.trim) (trims ??= new Map()).set(item.trim.key, item.trim);
      const followUp = item.extras?.followUp;
      if (followUp) {
        followUps ??= new Map();
        let group = followUps.get(followUp);
        if (!group) followUps.set(followUp, (group = { followUp, batch, items: [] }));
        group.items.push(item);
      }
      // Cannot refuse: readiness was checked by #flush and only changes on socket events.
      if (!pipe.write(item.args, this.#replies, item)) this.#failed(item, batch, new NotConnectedError('The publisher connection is not ready'));
    }
    if (trims) {
      for (const trim of trims.values()) {
        const args = trim.args(now);
        // Retention is best effort per batch: a failed trim is redone by the next batch.
        if (args) pipe.write(args, IGNORE_REPLY, undefined);
      }
    }
    // After the batch's writes on the same connection: WAIT / WAITAOF cover exactly those.
    if (followUps) for (const group of followUps.values()) pipe.write(group.followUp.args, this.#followUpReplies, group);
    pipe.flush();
    if (batch.unsettled > 0) this.#armTimer(batch, earliest);
  }

  /** Replies to XADDs: the token is the item (one handler for all, no closure per event). */
  readonly #replies: ReplyHandler<Item> = {
    onReply: (item, error, reply) => {
      const batch = item.batch;
      if (item.settled || batch === undefined) return;
      if (error) this.#failed(item, batch, error);
      else if (item.extras === undefined) this.#settle(item, batch, reply as string, undefined);
      else {
        // An idempotent publish answers [id, duplicate?]; a plain XADD the ID.
        const id = Array.isArray(reply) ? String(reply[0]) : (reply as string);
        if (item.extras.followUp) item.id = id;
        else this.#settle(item, batch, id, undefined);
      }
    },
  };

  /** The follow-up's reply settles the publishes of its batch that were stored. */
  readonly #followUpReplies: ReplyHandler<FollowUpGroup> = {
    onReply: (group, error, reply) => {
      for (const item of group.items) {
        if (item.settled || item.batch !== group.batch || item.id === undefined) continue;
        const id = item.id;
        try {
          if (error) throw error;
          group.followUp.check(reply, id);
        } catch (failure) {
          const message = failure instanceof Error ? failure.message : String(failure);
          this.#settle(
            item,
            group.batch,
            undefined,
            failure instanceof SluiceError && failure.code.startsWith('ERR_DURABILITY')
              ? failure
              : new DurabilityError('ERR_DURABILITY_TIMEOUT', `Event ${id} is stored, but its durability could not be confirmed: ${message}`, id),
          );
          continue;
        }
        this.#settle(item, group.batch, id, undefined);
      }
    },
  };

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
    const script = item.extras?.script;
    if (script && isNoScript(error) && item.reloads < 2 && Date.now() < item.deadline) {
      // The server lost its script cache (a restart, SCRIPT FLUSH): load the script, then send the
      // item again on the same connection, which keeps the two in order. Once per script, not per
      // item: every EVALSHA of the batch meets NOSCRIPT.
      item.reloads++;
      item.batch = undefined;
      this.#batchItemDone(batch);
      if (!this.#loadingScripts.has(script)) {
        this.#loadingScripts.add(script);
        this.#pipe.write(['SCRIPT', 'LOAD', script.source], { onReply: () => this.#loadingScripts.delete(script) }, undefined);
      }
      // Through the retry list, in the order the replies come (the batch's): putting each item
      // back at the queue's front reversed the batch. Publishes made meanwhile wait behind them.
      this.#retry.push(item);
      this.#waitAndRetry(error);
      return;
    }
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
    this.#pipe.waitReady(earliest, cause, this.#retryAttempt++).then(
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
        const closed = error instanceof ClosedError;
        for (const item of this.#retry) {
          if (closed || item.deadline <= now) this.#settle(item, undefined, undefined, toSluiceError(error, 'XADD'));
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
    if (batch?.started !== undefined && error === undefined) {
      const stored = (batch.stored ??= new Map());
      const stream = streamOf(item.args);
      stored.set(stream, (stored.get(stream) ?? 0) + 1);
    }
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
    if (--batch.unsettled > 0) return;
    if (batch.timer) clearTimeout(batch.timer);
    if (batch.started !== undefined) this.#reportBatch(batch, batch.started);
  }

  /** Once per batch, when its last publish is answered (or left for a retry). */
  #reportBatch(batch: Batch, started: number): void {
    const events = this.#events as ProducerEmitter;
    if (batch.stored && events.has('published')) {
      for (const [stream, count] of batch.stored) events.emit('published', { stream, count });
    }
    if (events.has('batch')) events.emit('batch', { events: batch.items.length, ms: performance.now() - started });
  }
}

/** The stream a publish writes to: the first key of its XADD, or of its EVALSHA (idempotent publish). */
function streamOf(args: readonly string[]): string {
  return (args[0] === 'EVALSHA' || args[0] === 'EVAL' ? args[3] : args[1]) as string;
}

const IGNORE_REPLY: ReplyHandler<undefined> = { onReply: () => undefined };

interface FollowUpGroup {
  followUp: FollowUp;
  batch: Batch;
  items: Item[];
}

function isNoScript(error: unknown): boolean {
  return redisErrorCode(error) === 'NOSCRIPT';
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
