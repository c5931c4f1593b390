import { BackpressureError, ClosedError, DurabilityError, InvalidOptionError, NotConnectedError, SluiceError, TimeoutError } from '../errors.js';
import type { RedisConnection } from '../redis/connection.js';
import { PipelineConnection, type ReplyHandler } from '../redis/pipeline-connection.js';
import { isRetryable, redisErrorCode, toSluiceError } from '../redis/redis-errors.js';
import { Fifo } from './fifo.js';
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
   * through an outage). Callers over it wait or are refused (`onFull`, `maxWaiting`).
   * @default 50000
   */
  maxBuffered?: number;
  /**
   * Most publishes that may wait for room in the full buffer with `onFull: 'block'`; a publish
   * past them is refused at once with `BackpressureError` (its `retryAfterMs` says when a place
   * is likely to free), as every publish over the buffer is with `onFull: 'reject'`. Each waiting
   * publish fails with `TimeoutError` if it got no room within the publish timeout
   * (`commandTimeout`), counted from the call.
   *
   * With `maxBuffered` it bounds what a producer holds, whatever the length of an outage and
   * however fast the publishes come: at most `maxBuffered + maxWaiting` unsettled publishes.
   * Callers that await their publish wait at most once each, so only that many of them at once
   * meet it; it stops producers that publish without waiting from piling up callers while Redis
   * is away. Ignored with `onFull: 'reject'`. `publishMany` keeps at most `maxBuffered` of its
   * events unsettled, so one call does not fill the line by itself.
   * @default maxBuffered
   * @example
   * connect({ publisher: { maxBuffered: 10_000, maxWaiting: 1_000 } }); // ≤ 11,000 publishes held
   */
  maxWaiting?: number;
  /**
   * When the buffer is full: `'block'` waits for room (within the publish timeout, at most
   * `maxWaiting` callers), `'reject'` throws `BackpressureError` at once.
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
  /** Filled in from the reply of an idempotent publish (`[id, duplicate]`), for `publishOnce`. */
  outcome?: PublishOutcome;
}

/** What an idempotent publish's reply said beyond the ID. */
export interface PublishOutcome {
  /** The key had been published already: nothing was written. */
  duplicate: boolean;
}

interface Item {
  /**
   * The command, until it is written. Then only its bytes are kept (`bytes`, `start`, `end`):
   * an event in flight holds no argument array, so it does not outlive its tick as garbage the
   * GC must copy and promote (a quarter of what a deep pipeline of publishes promoted).
   */
  args: readonly string[] | undefined;
  /** The stream it writes to (for the `published` and `backpressure` events). */
  stream: string;
  /** The bytes of its batch once written (for a retry); its command is `bytes[start, end)`. */
  bytes: Buffer | undefined;
  start: number;
  end: number;
  trim: BatchTrim | undefined;
  extras: SendExtras | undefined;
  /** The ID, once stored, while the item waits for its follow-up's reply. */
  id: string | undefined;
  /** NOSCRIPT reloads so far (bounded, so a server that refuses scripts cannot loop us). */
  reloads: number;
  resolve: (id: string) => void;
  reject: (error: Error) => void;
  /**
   * Epoch ms after which the publish fails: the flush + the timeout, or for a caller that waited
   * for room, its call + the timeout.
   */
  deadline: number;
  settled: boolean;
  /** The batch the item is in flight in; undefined while queued, waiting for room or for a retry. */
  batch: Batch | undefined;
}

interface Batch {
  items: Item[];
  /** What was written for it (with its trims and follow-ups), set once flushed. */
  bytes: Buffer | undefined;
  unsettled: number;
  timer: NodeJS.Timeout | undefined;
  /** performance.now() at the write, only when someone listens to `batch` or `published`. */
  started: number | undefined;
  /** Stored events per stream, counted only when `started` is set. */
  stored: Map<string, number> | undefined;
}

const DEFAULTS = { maxBatch: 1000, maxBuffered: 50_000, onFull: 'block' as const };

/** `retryAfterMs` of a refusal while Redis answers: room comes back as its replies do. */
const RETRY_AFTER_MS = 50;

/**
 * Coalesces concurrent publishes into pipelined XADD batches (the guide's step 4, without the
 * caller writing a pipeline), with one deadline timer per batch rather than per event.
 *
 * Batches go over the publisher's own connection (`PipelineConnection`: one socket write per
 * batch, minimal reply parsing), opened on the first publish from the URL of `conn`; everything
 * else Sluice does stays on `conn` (node-redis). See BENCHMARKS.md for why.
 *
 * Bounds: at most `maxBuffered` events held (queued, in flight, or held for a retry) and, with
 * `onFull: 'block'`, at most `maxWaiting` callers waiting for room; every publish settles by its
 * deadline. While Redis is down, the work is O(1) per publish: callers wait in a FIFO and held
 * events in a list in deadline order, each with one timer for its head (a waiting caller and a
 * held event have the same timeout, so the oldest is always the next to expire).
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
  readonly #maxWaiting: number;
  readonly #onFull: 'block' | 'reject';
  readonly #events: ProducerEmitter | undefined;
  /** Published, not yet flushed. */
  #queue: Item[] = [];
  /**
   * Failed with a retryable error, or held behind such: sent again, first, once Redis is back.
   * In send order, which `#holdForRetry` keeps in deadline order too.
   */
  readonly #retry = new Fifo<Item>();
  /** Fires at the deadline of the oldest held event. */
  #retryTimer: NodeJS.Timeout | undefined;
  /** The error that started the current wait for the connection (for the expired events' error). */
  #retryCause: unknown;
  #buffered = 0;
  #flushScheduled = false;
  #retryWaiting = false;
  #retryAttempt = 0;
  #closed = false;
  /** Callers waiting for room (`onFull: 'block'`), oldest first: also the order of their deadlines. */
  readonly #waiting = new Fifo<Item>();
  /** Fires at the deadline of the oldest waiting caller. */
  #waitingTimer: NodeJS.Timeout | undefined;
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
    this.#maxWaiting = checked.maxWaiting;
    this.#onFull = checked.onFull;
  }

  /** Events waiting to be sent or awaiting their reply. */
  get buffered(): number {
    return this.#buffered;
  }

  /** Callers waiting for room in the full buffer (`onFull: 'block'`). */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Most events held at once (`publisher.maxBuffered`). */
  get maxBuffered(): number {
    return this.#maxBuffered;
  }

  /**
   * Queues one XADD (fully built; or an EVALSHA whose reply starts with the ID) and resolves to the
   * ID Redis gave it.
   */
  send(args: readonly string[], trim?: BatchTrim, extras?: SendExtras): Promise<string> {
    if (this.#closed) return Promise.reject(new ClosedError('The publisher'));
    if (this.#buffered >= this.#maxBuffered || this.#waiting.length > 0) return this.#sendWhenRoom(args, trim, extras);
    this.#buffered++;
    return this.#enqueue(args, trim, extras);
  }

  /** Resolves once everything queued so far has been written or has failed. */
  drain(): Promise<void> {
    if (this.#buffered === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Refuses new events and the callers still waiting for room (never sent: `ClosedError`), waits
   * for the buffered ones, then closes the publisher's connection.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#stopWaitingTimer();
    for (let waiter = this.#waiting.shift(); waiter !== undefined; waiter = this.#waiting.shift()) {
      waiter.settled = true;
      waiter.reject(new ClosedError('The publisher'));
    }
    await this.drain();
    await this.#pipe.close();
  }

  /** Takes a slot already counted in #buffered. Its timeout starts at the flush (one clock read per batch). */
  #enqueue(args: readonly string[], trim: BatchTrim | undefined, extras: SendExtras | undefined): Promise<string> {
    const item = newItem(args, trim, extras, 0);
    const promise = promiseOf(item);
    this.#queue.push(item);
    this.#scheduleFlush();
    return promise;
  }

  #scheduleFlush(): void {
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(this.#flush);
    }
  }

  /** The buffer is full (or others wait for it): refuse, or wait for room in line. */
  #sendWhenRoom(args: readonly string[], trim: BatchTrim | undefined, extras: SendExtras | undefined): Promise<string> {
    if (this.#onFull === 'reject') {
      this.#reportFull(streamOf(args), 'reject', 0);
      return Promise.reject(
        new BackpressureError(
          RETRY_AFTER_MS,
          `The producer buffer is full (${this.#maxBuffered} events waiting for Redis): retry later, or raise publisher.maxBuffered`,
        ),
      );
    }
    const now = Date.now();
    if (this.#waiting.length >= this.#maxWaiting) {
      this.#reportFull(streamOf(args), 'reject', 0);
      return Promise.reject(
        new BackpressureError(
          this.#retryAfter(now),
          `The producer buffer is full (${this.#maxBuffered} events waiting for Redis) and ${this.#maxWaiting} publishes already wait for room: retry later, or raise publisher.maxWaiting`,
        ),
      );
    }
    // The publish timeout counts from the call: a caller handed a slot late must not get a
    // second full timeout on top of its wait. Calls come in order and share the timeout, so the
    // line is in deadline order too: only its head can be due.
    const item = newItem(args, trim, extras, now + this.#timeoutMs);
    const promise = promiseOf(item);
    this.#waiting.push(item);
    if (this.#waitingTimer === undefined) this.#armWaitingTimer(now);
    return promise;
  }

  /**
   * When a waiting place is likely to free. While events are held for a retry (Redis away),
   * nothing frees one before the oldest held event or the oldest waiting caller reaches its
   * deadline; otherwise places free as Redis answers.
   */
  #retryAfter(now: number): number {
    const held = this.#retry.peek();
    const waiter = this.#waiting.peek();
    if (held === undefined || waiter === undefined) return RETRY_AFTER_MS;
    return Math.max(RETRY_AFTER_MS, Math.min(held.deadline, waiter.deadline) - now);
  }

  #armWaitingTimer(now: number): void {
    const head = this.#waiting.peek();
    if (head !== undefined) this.#waitingTimer = setTimeout(this.#expireWaiting, Math.max(0, head.deadline - now));
  }

  #stopWaitingTimer(): void {
    if (this.#waitingTimer === undefined) return;
    clearTimeout(this.#waitingTimer);
    this.#waitingTimer = undefined;
  }

  readonly #expireWaiting = (): void => {
    this.#waitingTimer = undefined;
    const now = Date.now();
    this.#dropExpiredWaiters(now);
    this.#armWaitingTimer(now);
  };

  /** Fails the callers at the head of the line whose deadline passed: they got no room in time. */
  #dropExpiredWaiters(now: number): void {
    const waiting = this.#waiting;
    // One error for the callers failing together, as the events of a lost connection share one:
    // building an Error (its stack) costs microseconds, and a wave can be tens of thousands.
    let error: TimeoutError | undefined;
    for (let head = waiting.peek(); head !== undefined && head.deadline <= now; head = waiting.peek()) {
      waiting.shift();
      head.settled = true;
      this.#reportFull(head.stream, 'reject', now - (head.deadline - this.#timeoutMs));
      head.reject(
        (error ??= new TimeoutError(
          `The producer buffer stayed full (${this.#maxBuffered} events) for ${this.#timeoutMs} ms: Redis is down or slower than the producers`,
        )),
      );
    }
  }

  #reportFull(stream: string, action: 'wait' | 'reject', waitMs: number): void {
    const events = this.#events;
    if (events?.has('backpressure')) events.emit('backpressure', { stream, action, waitMs, limit: 'buffer' });
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
      for (const item of queue) this.#holdForRetry(item);
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
    const batch: Batch = { items, bytes: undefined, unsettled: items.length, timer: undefined, started: observed ? performance.now() : undefined, stored: undefined };
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
      const start = pipe.pendingBytes;
      const args = item.args;
      const written = args === undefined ? pipe.writeEncoded(item.bytes as Buffer, item.start, item.end, this.#replies, item) : pipe.write(args, this.#replies, item);
      if (!written) {
        this.#failed(item, batch, new NotConnectedError('The publisher connection is not ready'));
        continue;
      }
      // Where it sits in the bytes this batch's flush hands the socket.
      item.start = start;
      item.end = pipe.pendingBytes;
      item.args = undefined;
      item.bytes = undefined;
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
    batch.bytes = pipe.flush();
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
        if (Array.isArray(reply) && item.extras.outcome) item.extras.outcome.duplicate = Number(reply[1]) === 1;
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
      this.#leaveForRetry(item, batch);
      this.#batchItemDone(batch);
      if (!this.#loadingScripts.has(script)) {
        this.#loadingScripts.add(script);
        this.#pipe.write(['SCRIPT', 'LOAD', script.source], { onReply: () => this.#loadingScripts.delete(script) }, undefined);
      }
      // Through the retry list, in the order the replies come (the batch's): putting each item
      // back at the queue's front reversed the batch. Publishes made meanwhile wait behind them.
      this.#holdForRetry(item);
      this.#waitAndRetry(error);
      return;
    }
    if (isRetryable(error) && Date.now() < item.deadline) {
      // Leaves this batch without settling: the retry sends it in a new one.
      this.#leaveForRetry(item, batch);
      this.#batchItemDone(batch);
      this.#holdForRetry(item);
      this.#waitAndRetry(error);
      return;
    }
    this.#settle(item, batch, undefined, toSluiceError(error, 'XADD'));
  }

  /** Takes the item out of its batch, keeping what was written for it (sent again as is). */
  #leaveForRetry(item: Item, batch: Batch): void {
    item.batch = undefined;
    // Written in this batch: its command is in the batch's bytes. (One the connection refused
    // still has its arguments, or the bytes of the batch it was written in before.)
    if (item.args === undefined && item.bytes === undefined) item.bytes = batch.bytes;
  }

  /**
   * Appends an event to the retry list, keeping the list in deadline order so that expiring it
   * only ever looks at its head. Deadlines follow send order except by a little: a publish's
   * timeout starts at its flush but a waiting caller's at its call, and a batch retried on
   * LOADING can come back behind a later one. The later deadlines ahead of this one are lowered
   * to it (rarely more than a tick's worth of events): they may fail that much sooner, and no
   * event fails after its deadline.
   */
  #holdForRetry(item: Item): void {
    const retry = this.#retry;
    let index = retry.length - 1;
    for (let before = retry.at(index); before !== undefined && before.deadline > item.deadline; before = retry.at(--index)) {
      before.deadline = item.deadline;
    }
    retry.push(item);
    // The head's deadline was lowered: its timer is due sooner.
    if (index < 0 && this.#retryTimer !== undefined) {
      this.#stopRetryTimer();
      this.#armRetryTimer();
    }
  }

  /**
   * Waits for the connection, then sends the held events first. Two parts, so that neither costs
   * more than O(1) per event however long Redis is away: one timer for the oldest held event's
   * deadline fails the expired head of the list (`#expireRetries`), and one wait for the
   * connection runs with its backoff until the newest deadline held (restarting it at each
   * expiry made a connection attempt per expired event).
   */
  #waitAndRetry(cause: unknown): void {
    this.#armRetryTimer();
    if (this.#retryWaiting) return;
    this.#retryWaiting = true;
    this.#retryCause = cause;
    const horizon = (this.#retry.peekLast() as Item).deadline;
    this.#pipe.waitReady(horizon, cause, this.#retryAttempt++).then(
      () => {
        this.#retryWaiting = false;
        this.#stopRetryTimer();
        // Retried events go first, in their original order.
        const retry = this.#retry.drain();
        for (const item of this.#queue) retry.push(item);
        this.#queue = retry;
        this.#flush();
      },
      (error: unknown) => {
        this.#retryWaiting = false;
        this.#failExpiredRetries(error, error instanceof ClosedError);
        if (this.#retry.length > 0) this.#waitAndRetry(cause);
        else this.#stopRetryTimer();
      },
    );
  }

  #armRetryTimer(): void {
    if (this.#retryTimer !== undefined) return;
    const head = this.#retry.peek();
    if (head !== undefined) this.#retryTimer = setTimeout(this.#expireRetries, Math.max(0, head.deadline - Date.now()));
  }

  #stopRetryTimer(): void {
    if (this.#retryTimer === undefined) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  /** The oldest held event's deadline came: fail the held events now due. */
  readonly #expireRetries = (): void => {
    this.#retryTimer = undefined;
    const head = this.#retry.peek();
    if (head === undefined) return;
    if (head.deadline > Date.now()) return this.#armRetryTimer();
    // A wait whose deadline has passed rejects at once with the error the connection gives it
    // (`Cannot reach Redis at … (why)`, or the LOADING that sent the events back), without a
    // connection attempt. Resolving means the connection is back: the running wait sends them.
    this.#pipe.waitReady(0, this.#retryCause).then(
      () => this.#armRetryTimer(),
      (error: unknown) => {
        this.#failExpiredRetries(error, error instanceof ClosedError);
        this.#armRetryTimer();
      },
    );
  };

  /** Fails the held events whose deadline passed (all of them when `all`): the list's head. */
  #failExpiredRetries(error: unknown, all: boolean): void {
    const retry = this.#retry;
    const now = Date.now();
    let failure: Error | undefined;
    for (let head = retry.peek(); head !== undefined && (all || head.deadline <= now); head = retry.peek()) {
      retry.shift();
      this.#settle(head, undefined, undefined, (failure ??= toSluiceError(error, 'XADD')));
    }
  }

  #settle(item: Item, batch: Batch | undefined, id: string | undefined, error: Error | undefined): void {
    if (item.settled) return;
    item.settled = true;
    if (batch?.started !== undefined && error === undefined) {
      const stored = (batch.stored ??= new Map());
      const stream = item.stream;
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

  /** Frees one slot: handed straight to the longest waiting caller still within its deadline, if any. */
  #release(): void {
    const waiting = this.#waiting;
    if (waiting.length > 0) {
      const now = Date.now();
      // Those past their deadline (a timer late behind a busy loop) fail rather than get sent.
      this.#dropExpiredWaiters(now);
      const next = waiting.shift();
      if (waiting.length === 0) this.#stopWaitingTimer();
      if (next !== undefined) {
        this.#reportFull(next.stream, 'wait', now - (next.deadline - this.#timeoutMs));
        // Its deadline is set (its call + the timeout) and it keeps the slot just freed.
        this.#queue.push(next);
        this.#scheduleFlush();
        return;
      }
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

function newItem(args: readonly string[], trim: BatchTrim | undefined, extras: SendExtras | undefined, deadline: number): Item {
  return {
    args,
    stream: streamOf(args),
    bytes: undefined,
    start: 0,
    end: 0,
    trim,
    extras,
    id: undefined,
    reloads: 0,
    resolve: unresolved,
    reject: unresolved,
    deadline,
    settled: false,
    batch: undefined,
  };
}

/** An item's settle functions until its promise hands it the real ones (same shape for every item). */
const unresolved = (): void => undefined;

/** The item `takeResolvers` gives its promise's settle functions to (set just before `new Promise`). */
let receiving: Item | undefined;

/**
 * One executor for every publish: `new Promise((resolve, reject) => …)` built a closure and its
 * context per call, on the hottest path there is. The executor runs synchronously inside
 * `new Promise`, so the item it is for can be handed over in a variable.
 */
function takeResolvers(resolve: (id: string) => void, reject: (error: Error) => void): void {
  const item = receiving as Item;
  item.resolve = resolve;
  item.reject = reject;
}

/** The promise a publish returns, settled through `item.resolve` / `item.reject`. */
function promiseOf(item: Item): Promise<string> {
  receiving = item;
  const promise = new Promise<string>(takeResolvers);
  receiving = undefined;
  return promise;
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
  const maxBatch = wholeNumber('publisher.maxBatch', options.maxBatch ?? DEFAULTS.maxBatch, 1);
  const maxBuffered = wholeNumber('publisher.maxBuffered', options.maxBuffered ?? DEFAULTS.maxBuffered, 1);
  return {
    maxBatch,
    maxBuffered,
    // 0 is allowed: `block` then refuses at once when the buffer is full, as `reject` does.
    maxWaiting: wholeNumber('publisher.maxWaiting', options.maxWaiting ?? maxBuffered, 0),
    onFull,
  };
}

function wholeNumber(option: string, value: unknown, min: number): number {
  if (!Number.isSafeInteger(value) || (value as number) < min) throw new InvalidOptionError(option, value, `a whole number ≥ ${min}`);
  return value as number;
}
