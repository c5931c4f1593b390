import type { Tracer } from '@opentelemetry/api';
import { ClosedError, SluiceError, TimeoutError } from '../errors.js';
import { logger as rootLogger, type Logger } from '../observe/logger.js';
import { activeTracer, endHandlerSpan, failHandlerSpan, runInContext, startHandlerSpan } from '../observe/trace-context.js';
import type { RedisConnection } from '../redis/connection.js';
import { ReadConnection } from '../redis/read-connection.js';
import { isRetryable } from '../redis/redis-errors.js';
import { decodeEntry, entriesOfXread, type EntryDecoder, type RawEntry } from '../stream/entries.js';
import type { EventEnvelope } from '../stream/event.js';
import { pairs } from '../stream/stream-info.js';
import type { RetentionEnforcer } from '../flow/retention.js';
import { Acker } from './acker.js';
import { Attempt, type AttemptOwner } from './attempt.js';
import { backoffDelay } from './backoff.js';
import { deadLetterEntry } from './dead-letter.js';
import { createGroupAt } from './group-admin.js';
import { ensureGroup, isGroupLost, isNoGroup } from './group.js';
import { removeIdleConsumers } from './idle-consumers.js';
import { KeyLanes } from './key-lanes.js';
import { resolveConsumerOptions, type ConsumerOptions, type ResolvedConsumerOptions } from './options.js';
import { GroupRateLimit, type TokenGrant } from './rate-limit.js';
import { ownPending, reclaimIdle, redeliver, touchEntries, type ReclaimTarget } from './reclaim.js';
import { TypedEmitter, type DeadLetterReason, type WorkerEvents } from './worker-events.js';
import { WorkerLog } from './worker-log.js';

/**
 * Thrown by a handler to dead-letter the event at once, without retries (bad data that will
 * never succeed).
 */
export class NonRetryableError extends SluiceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_NON_RETRYABLE', message, options);
  }
}

/**
 * What a handler gets besides the event. Its trace context is not here, on purpose: with an
 * OpenTelemetry SDK registered, the handler runs with its CONSUMER span active —
 * `trace.getActiveSpan()`, and what every instrumented library picks up by itself — and the
 * publisher's traceparent is `event.meta.traceparent` (`$tp`).
 */
export interface HandlerContext {
  /** Deliveries of this entry so far, this one included (1 on the first). Lives in Redis. */
  readonly deliveryCount: number;
  readonly group: string;
  readonly consumer: string;
  /** Aborted when the handler times out (`handlerTimeout`) or the worker is closing. */
  readonly signal: AbortSignal;
  /**
   * A pino logger bound to `{ stream, group, consumer, eventId }`: every line the handler writes
   * says which event it was about. A child of the connection's logger (`connect({ logger })`),
   * made on first use.
   * @example ctx.log.info({ amount: event.fields.amount }, 'charged')
   */
  readonly log: Logger;
  /** Moves the event to the dead-letter stream now (no retries); the handler's outcome is then ignored. */
  deadLetter(reason: string): Promise<void>;
}

/**
 * Processes one event. Resolve (or return) → the entry is acknowledged. Throw → it is delivered
 * again after a backoff, until `maxDeliveries`, then dead-lettered. Throw `NonRetryableError`
 * or call `ctx.deadLetter(reason)` → dead-lettered at once. Delivery is at-least-once: a handler
 * may see an event again after a crash, so make its effects idempotent (e.g. keyed on `event.id`).
 *
 * Tracing: when an OpenTelemetry SDK is registered, each run is a CONSUMER span
 * `<stream> process` (attributes `messaging.system` `redis_streams`, the stream, the group and the
 * event ID), active while the handler runs and a child of the span that published the event
 * (`$tp`); it ends with the run, with status ERROR when the handler threw. Without an SDK there is
 * no span and no cost.
 */
export type Handler<E> = (event: E, ctx: HandlerContext) => Promise<void> | void;

export interface CloseOptions {
  /**
   * Time in-flight handlers get to finish; then their signals abort and their entries stay
   * pending (redelivered later), never half-acknowledged.
   * @default 10_000
   */
  timeout?: number;
}

export interface WorkerDeps {
  conn: RedisConnection;
  decoder: EntryDecoder;
  /**
   * The stream's retention, run by the worker's maintenance passes. Workers respect groups
   * unless the policy explicitly says `respectGroups: false` (then producers trim on XADD).
   */
  retention?: RetentionEnforcer;
  /** The connection's logger; the worker logs through a child bound to stream, group and consumer. @default Sluice's stderr logger */
  log?: Logger;
}

/** An XREADGROUP in flight, with the capacity it reserved. */
interface Read {
  count: number;
  blocking: boolean;
  reply: Promise<unknown>;
}

const MISSING = 'the entry was trimmed or deleted while pending';
const DONE = Promise.resolve();

/**
 * A consumer-group worker: fetches with XREADGROUP on its own connection, runs the handler with
 * bounded concurrency, acks in batches, retries with backoff, dead-letters poison entries,
 * reclaims entries of crashed consumers, and closes gracefully. See DESIGN.md §3.
 */
export class Worker<E extends EventEnvelope = EventEnvelope> {
  readonly options: ResolvedConsumerOptions<E>;
  readonly stream: string;
  /** Resolves once the group exists and fetching has started; rejects if the start failed. */
  readonly ready: Promise<void>;
  readonly #conn: RedisConnection;
  readonly #decoder: EntryDecoder;
  readonly #retention: RetentionEnforcer | undefined;
  readonly #handler: Handler<E>;
  readonly #events: TypedEmitter<WorkerEvents<E>>;
  readonly #acker: Acker;
  readonly #lanes = new KeyLanes();
  readonly #target: ReclaimTarget;
  /**
   * Entries held (running, awaiting retry, or queued behind their key), by ID, with the attempt
   * running now, if any (what close() aborts when it gives up waiting).
   */
  readonly #held = new Map<string, Attempt<E> | undefined>();
  /** Set by close() while it waits for held entries to be released. */
  #onDrained: (() => void) | undefined;
  /** Handlers running synchronously right now (their entries are not in `#held`). */
  #running = 0;
  readonly #owner: AttemptOwner;
  readonly #log: WorkerLog;
  /**
   * The registered SDK's tracer, or undefined without one (then handlers run bare). Looked up
   * once per read, not per entry.
   */
  #tracer: Tracer | undefined;
  /** The blocking reads' own connection (DESIGN §4), a lean one: see read-connection.ts. */
  #fetchConn: ReadConnection | undefined;
  /**
   * Most entries one read asks for: `batchSize`, but no more than half of `concurrency`, so that a
   * second read fits in the in-flight limit while the first batch is handled.
   */
  readonly #maxRead: number;
  /** Fewest entries worth a read: half of `#maxRead`. */
  readonly #minRead: number;
  /** Entries asked for by reads in flight: counted against `concurrency` like held ones. */
  #reserved = 0;
  /** A blocking read waits on the fetch connection: acks must take the shared one. */
  #blocking = false;
  #capacityWaiter: (() => void) | undefined;
  #paused = false;
  #closing = false;
  #closeDone: Promise<void> | undefined;
  #markClosed!: () => void;
  /** Resolves once the worker has closed (by `close()`, or by closing its Sluice connection). */
  readonly closed: Promise<void> = new Promise((resolve) => (this.#markClosed = resolve));
  #outage = false;
  #maintenance: NodeJS.Timeout | undefined;
  #reclaimCursor = '0-0';
  #sleepers = new Set<() => void>();
  #loop: Promise<void> | undefined;
  /** The group's shared rate limit (`rateLimit`), if any: see `#takeTokens`. */
  readonly #rateLimit: GroupRateLimit | undefined;
  /** The last token request got none: the log says so once, when it starts. */
  #rateLimited = false;
  /** Taking tokens failed and was reported; quiet until it works again. */
  #rateLimitFailing = false;

  constructor(deps: WorkerDeps, options: ConsumerOptions<E>, handler: Handler<E>) {
    if (typeof handler !== 'function') throw new TypeError('Expected the handler to be a function (event, ctx) => Promise<void>');
    this.stream = deps.decoder.stream;
    this.options = resolveConsumerOptions(this.stream, options);
    this.#conn = deps.conn;
    this.#decoder = deps.decoder;
    this.#retention = deps.retention;
    this.#handler = handler;
    this.#maxRead = Math.min(this.options.batchSize, Math.ceil(this.options.concurrency / 2));
    this.#minRead = Math.max(1, Math.floor(this.#maxRead / 2));
    this.#target = { stream: this.stream, group: this.options.group, consumer: this.options.consumer };
    const { rateLimit } = this.options;
    this.#rateLimit = rateLimit === undefined ? undefined : new GroupRateLimit(this.#conn, this.stream, this.options.group, rateLimit);
    const log = (deps.log ?? rootLogger).child({ stream: this.stream, group: this.options.group, consumer: this.options.consumer });
    this.#log = new WorkerLog(log);
    this.#owner = {
      group: this.options.group,
      consumer: this.options.consumer,
      log,
      deadLetter: (id, reason, error, deliveryCount) => this.#deadLetter(id, reason, error, deliveryCount),
    };
    this.#tracer = activeTracer();
    this.#events = new TypedEmitter<WorkerEvents<E>>((name, payload) => {
      // Nobody listens for errors: log them rather than lose them.
      if (name === 'error') this.#log.error(payload as WorkerEvents['error']);
    });
    this.#acker = new Acker(
      this.#conn,
      this.stream,
      this.options.group,
      (error) => this.#report(error, 'acknowledging entries'),
      () => (this.#blocking || !this.#fetchConn?.isReady ? undefined : this.#fetchConn),
    );
    this.ready = this.#start();
    this.ready.catch(() => undefined);
  }

  get group(): string {
    return this.options.group;
  }

  get consumer(): string {
    return this.options.consumer;
  }

  /** Entries held right now (never more than `concurrency`). */
  get inFlight(): number {
    return this.#held.size + this.#running;
  }

  get paused(): boolean {
    return this.#paused;
  }

  on<K extends keyof WorkerEvents<E>>(name: K, listener: (payload: WorkerEvents<E>[K]) => void): this {
    this.#events.on(name, listener);
    return this;
  }

  off<K extends keyof WorkerEvents<E>>(name: K, listener: (payload: WorkerEvents<E>[K]) => void): this {
    this.#events.off(name, listener);
    return this;
  }

  once<K extends keyof WorkerEvents<E>>(name: K, listener: (payload: WorkerEvents<E>[K]) => void): this {
    this.#events.once(name, listener);
    return this;
  }

  /**
   * Like `on`, for a listener that only counts or measures (metrics): the worker still logs the
   * dead letters and reclaims it sees, where a listener added with `on` takes them over (their
   * log lines drop to `debug`).
   */
  watch<K extends keyof WorkerEvents<E>>(name: K, listener: (payload: WorkerEvents<E>[K]) => void): this {
    this.#events.watch(name, listener);
    return this;
  }

  unwatch<K extends keyof WorkerEvents<E>>(name: K, listener: (payload: WorkerEvents<E>[K]) => void): this {
    this.#events.unwatch(name, listener);
    return this;
  }

  /** Stops fetching new entries; in-flight work goes on. */
  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#wakeFetcher();
  }

  /**
   * Resolves when the group has nothing undelivered and nothing pending (other consumers'
   * pending entries included: they are reclaimed once idle for `claimIdle`).
   */
  idle(): Promise<void> {
    return new Promise((resolve) => this.once('idle', () => resolve()));
  }

  /** Stops fetching, lets in-flight work finish (or time out), flushes acks. Safe to call twice. */
  close(options: CloseOptions = {}): Promise<void> {
    this.#closeDone ??= this.#close(options.timeout ?? 10_000).finally(() => this.#markClosed());
    return this.#closeDone;
  }

  async #start(): Promise<void> {
    // Created in the middle of the stream (startFrom an ID or a time), with its lag exact.
    await createGroupAt(this.#conn, this.stream, this.options.group, this.options.startFrom);
    this.#fetchConn = await ReadConnection.open({
      url: this.#conn.url,
      connectTimeoutMs: this.#conn.options.connectTimeoutMs,
      commandTimeoutMs: this.#conn.options.commandTimeoutMs,
      clientName: `sluice:${this.options.group}:${this.options.consumer}`,
    });
    if (this.#closing) {
      this.#fetchConn.destroy();
      return;
    }
    const maintenanceEvery = Math.max(5, Math.min(Math.floor(this.options.claimIdleMs / 3), 10_000));
    this.#maintenance = setInterval(() => void this.#maintain(), maintenanceEvery);
    this.#loop = this.#fetchLoop();
  }

  async #fetchLoop(): Promise<void> {
    await this.#recoverOwnPending();
    const conn = this.#fetchConn as ReadConnection;
    // Reads sent and not handled yet, oldest first. While a backlog lasts there are two: Redis
    // prepares the next batch while this one is handled, instead of each waiting for the other.
    const reads: Read[] = [];
    while (!this.#closing) {
      if (reads.length === 0) {
        await this.#waitForCapacity();
        if (this.#closing) break;
        if (this.#reclaimDue) {
          // Reclaimed here, with no read in flight, not from the maintenance timer: a read is sized
          // for the capacity free when it starts, so entries claimed while it waits would push
          // the worker past `concurrency` once it returns.
          this.#reclaimDue = false;
          await this.#reclaimSafely();
          continue;
        }
        if (this.#rateLimit === undefined) reads.push(this.#read(conn));
        else {
          // Tokens first, then a read of that many: entries never wait for tokens while pending.
          const granted = await this.#takeTokens(this.#rateLimit, this.#tokensForRead());
          if (granted === 0 || this.#closing) continue;
          reads.push(this.#read(conn, granted));
        }
      }
      // Ahead only while behind: a blocking read must be the only one, so that pause() and the
      // idle check see a quiet worker. Not with a rate limit: tokens, not round trips, set the pace.
      if (reads.length === 1 && !this.#caughtUp && !this.#paused && !this.#reclaimDue && this.#rateLimit === undefined && this.#readSize() > 0) {
        reads.push(this.#read(conn));
      }
      const read = reads.shift() as Read;
      let reply: unknown;
      try {
        reply = await read.reply;
        this.#outage = false;
      } catch (error) {
        if (this.#closing) break;
        this.#rateLimit?.giveBack(read.count);
        await this.#recover(conn, error);
        continue;
      } finally {
        this.#reserved -= read.count;
        if (read.blocking) this.#blocking = false;
      }
      const entries = entriesOfXread(reply);
      // Tokens of a read that came back short go back to the group's other workers at once.
      if (this.#rateLimit !== undefined && entries.length < read.count) this.#rateLimit.giveBack(read.count - entries.length);
      this.#caughtUp = entries.length < read.count;
      if (entries.length > 0) this.#tracer = activeTracer();
      if (entries.length > 0 && this.#paused) await this.#holdWhilePaused(entries);
      if (this.#closing) break; // what was read stays pending: reclaimed later
      for (const entry of entries) this.#dispatch(entry, 1);
      // Caught up, and every entry was done during dispatch: the group may be idle now.
      if (this.#caughtUp && this.#held.size === 0 && this.#events.has('idle')) await this.#checkIdle();
    }
  }

  /**
   * Sends one XREADGROUP, for `count` entries: by default as many as may be held on top of those
   * in flight (with a rate limit: the tokens granted).
   */
  #read(conn: ReadConnection, count = Math.max(1, this.#readSize())): Read {
    // Block only once caught up. While a backlog lasts a full read says nothing about what is
    // left, and blocking on a stream that just ran dry would hold idle() back for `block` ms.
    const block = this.#caughtUp ? this.options.block : 0;
    const args = ['XREADGROUP', 'GROUP', this.options.group, this.options.consumer, 'COUNT', String(count)];
    if (block > 0) args.push('BLOCK', String(block));
    args.push('STREAMS', this.stream, '>');
    // Acks of the batches handled so far go first, on this connection's own turn.
    if (this.#acker.queued > 0 && conn.isReady) void this.#acker.flush();
    this.#reserved += count;
    if (block > 0) this.#blocking = true;
    const reply = conn.send(args, Date.now() + block + conn.options.commandTimeoutMs);
    // Handled when its turn comes (or never, for a read left behind by close(): its entries stay
    // pending); until then its failure is not an unhandled rejection.
    reply.catch(() => undefined);
    return { count, blocking: block > 0, reply };
  }

  /**
   * Up to `wanted` tokens from the group's rate limit; 0 after waiting until the next token is due
   * (or when taking failed), and the caller looks again: by then it may have to pause, reclaim or
   * stop.
   */
  async #takeTokens(limit: GroupRateLimit, wanted: number): Promise<number> {
    const grant = await this.#tryTake(limit, wanted);
    if (grant === undefined) return 0;
    if (grant.granted > 0) return grant.granted;
    await this.#waitForRefill(grant.waitMs);
    return 0;
  }

  /**
   * Tokens a read for new entries asks for. A blocking one (caught up) holds its tokens for as long
   * as it blocks: it asks for one, so that idle workers do not sit on the group's budget (and do
   * not add a burst of their own when traffic comes back); the reads after it, no longer caught
   * up, ask for as many as fit.
   */
  #tokensForRead(): number {
    return this.#caughtUp ? 1 : Math.max(1, this.#readSize());
  }

  /**
   * Waits for one token (a retry, an entry recovered at start) before a handler starts again.
   * False when the worker closes first.
   */
  async #waitForToken(limit: GroupRateLimit): Promise<boolean> {
    while (!this.#closing) {
      const grant = await this.#tryTake(limit, 1);
      if (grant !== undefined && grant.granted > 0) return true;
      if (grant !== undefined) await this.#waitForRefill(grant.waitMs);
    }
    return false;
  }

  /** The group's rate limit gave nothing: wait for its next token (reported: `rate-limited`). */
  #waitForRefill(waitMs: number): Promise<void> {
    this.#events.emit('rate-limited', { waitMs });
    return this.#sleep(waitMs);
  }

  /** One token request; undefined (after a pause) when Redis failed it, reported once until it works again. */
  async #tryTake(limit: GroupRateLimit, wanted: number): Promise<TokenGrant | undefined> {
    let grant: TokenGrant;
    try {
      grant = await limit.take(wanted);
    } catch (error) {
      if (this.#closing) return undefined;
      if (!this.#rateLimitFailing) this.#report(error, 'taking tokens from the group\'s rate limit; retrying');
      this.#rateLimitFailing = true;
      await this.#sleep(500);
      return undefined;
    }
    this.#rateLimitFailing = false;
    if (grant.granted === 0) {
      if (!this.#rateLimited) this.#log.rateLimited(grant.waitMs, limit.limit);
      this.#rateLimited = true;
    } else if (grant.granted === wanted) {
      this.#rateLimited = false;
    }
    return grant;
  }

  /**
   * Entries the next read may ask for: what is free once held entries and reads in flight are
   * counted, at most `#maxRead`; 0 when that is less than a worthwhile batch.
   */
  #readSize(): number {
    const free = this.options.concurrency - this.#held.size - this.#reserved;
    return free >= this.#minRead ? Math.min(free, this.#maxRead) : 0;
  }

  /**
   * A read already waiting when pause() was called can still return entries. They are pending on
   * this consumer now: hold them (counted in flight, kept fresh by the heartbeat) and run them
   * on resume(), so that no handler starts while paused. On close they are left pending.
   */
  async #holdWhilePaused(entries: RawEntry[]): Promise<void> {
    for (const [id] of entries) this.#held.set(id, undefined);
    while (this.#paused && !this.#closing) await new Promise<void>((resolve) => (this.#capacityWaiter = resolve));
    for (const [id] of entries) this.#held.delete(id);
  }

  /** After a failed XREADGROUP: re-create a lost group, or wait out an outage. */
  async #recover(conn: ReadConnection, error: unknown): Promise<void> {
    if (isGroupLost(error)) {
      // The stream or group was deleted (DEL, FLUSHALL, a restart without persistence).
      // Start again from the beginning of whatever the stream now holds.
      this.#report(error, `group ${this.options.group} was lost; re-creating it`);
      try {
        await ensureGroup(this.#conn, this.stream, this.options.group, '0');
      } catch (createError) {
        this.#report(createError, 're-creating the group');
        await this.#sleep(500);
      }
      return;
    }
    if (isRetryable(error) || (error instanceof SluiceError && (error.code === 'ERR_NOT_CONNECTED' || error.code === 'ERR_TIMEOUT'))) {
      if (!this.#outage) this.#report(error, 'Redis is unreachable; retrying');
      this.#outage = true;
      await conn.waitReady(Date.now() + conn.options.commandTimeoutMs, error).catch(() => undefined);
      return;
    }
    this.#report(error, 'reading from the group');
    await this.#sleep(1000);
  }

  /** Entries this consumer held before a restart (a stable `consumer` name) are delivered again. */
  async #recoverOwnPending(): Promise<void> {
    // One pass through the PEL, in ID order. Starting again from `-` each round would find the
    // entries just dispatched (still pending until their acks are flushed) and deliver them twice,
    // or only those still running, leaving the rest to wait for claimIdle.
    let start = '-';
    try {
      for (;;) {
        const ids = await ownPending(this.#conn, this.#target, start, Math.max(this.options.concurrency, 1));
        if (ids.length === 0 || this.#closing) return;
        start = `(${ids[ids.length - 1] as string}`;
        for (const id of ids) {
          await this.#waitForCapacity();
          if (this.#closing) return;
          if (this.#rateLimit !== undefined && !(await this.#waitForToken(this.#rateLimit))) return;
          await this.#redeliverAndDispatch(id);
        }
        this.#reclaimed({ ids, count: ids.length });
      }
    } catch (error) {
      this.#report(error, 'recovering own pending entries');
    }
  }

  async #redeliverAndDispatch(id: string): Promise<void> {
    const result = await redeliver(this.#conn, this.#target, id);
    if (result.kind === 'claimed') this.#dispatch(result.entry, result.deliveryCount);
    else if (result.kind === 'missing') await this.#deadLetter(id, 'missing', MISSING, result.deliveryCount);
  }

  /**
   * Takes an entry in. The handler runs now, synchronously: a handler that returns without a
   * promise (or with one that resolves) costs no promise of ours, and an entry done before this
   * returns is never even put in `#held`. An entry is held (counted in flight, kept fresh by the
   * heartbeat, abortable by close()) from the moment it outlives this call: an async result, a
   * failure, an ordering lane, an async schema, a dead-letter write.
   */
  #dispatch(entry: RawEntry, deliveryCount: number): void {
    const id = entry[0];
    if (this.#held.has(id)) return;
    if (entry[1] === null) {
      this.#held.set(id, undefined);
      void this.#deadLetterAndRelease(id, 'missing', MISSING, deliveryCount);
      return;
    }
    let decoded: E | Promise<E>;
    try {
      decoded = decodeEntry<E>(this.#decoder, entry);
    } catch (error) {
      this.#held.set(id, undefined);
      void this.#deadLetterAndRelease(id, decodeFailure(error), errorMessage(error), deliveryCount);
      return;
    }
    if (decoded instanceof Promise) {
      this.#held.set(id, undefined);
      void this.#dispatchDecoded(id, decoded, deliveryCount);
    } else {
      void this.#route(decoded, deliveryCount, false);
    }
  }

  /** An entry whose schema validates asynchronously. */
  async #dispatchDecoded(id: string, decoded: Promise<E>, deliveryCount: number): Promise<void> {
    let event: E;
    try {
      event = await decoded;
    } catch (error) {
      return this.#deadLetterAndRelease(id, decodeFailure(error), errorMessage(error), deliveryCount);
    }
    return this.#route(event, deliveryCount, true);
  }

  /**
   * Into the event's ordering lane, or straight to its first attempt. `held`: the entry is in
   * `#held` already. Like `#attempt`, returns a promise only when the entry is not done yet.
   */
  #route(event: E, deliveryCount: number, held: boolean): Promise<void> | undefined {
    if (this.options.ordering === 'key') {
      let key: string | undefined;
      try {
        key = this.options.key ? this.options.key(event) : event.meta?.key;
      } catch (error) {
        // An event the key function cannot handle will not get better on retry: a poison entry.
        if (!held) this.#held.set(event.id, undefined);
        return this.#deadLetterAndRelease(event.id, 'undecodable', `the ordering key function threw: ${errorMessage(error)}`, deliveryCount);
      }
      if (key !== undefined) {
        if (!held) this.#held.set(event.id, undefined);
        return this.#lanes.run(key, () => this.#begin(event, deliveryCount, true) ?? DONE);
      }
    }
    return this.#begin(event, deliveryCount, held);
  }

  /** Runs the entry unless it must not run: its deliveries are used up, or the worker is closing. */
  #begin(event: E, deliveryCount: number, held: boolean): Promise<void> | undefined {
    if (deliveryCount > this.options.maxDeliveries) {
      // Reclaimed with its deliveries used up, none of them ended in an ack or a failure: the
      // consumers that took it stopped mid-handler (crashed, killed). It may be what crashes them,
      // so it is not run again; otherwise it would be reclaimed and crash workers forever.
      const error = `delivered ${deliveryCount} times without a result: its consumers stopped while handling it`;
      if (!held) this.#held.set(event.id, undefined);
      return this.#deadLetterAndRelease(event.id, 'max-deliveries', error, deliveryCount);
    }
    if (this.#closing) {
      if (held) this.#release(event.id); // left pending: delivered again later
      return undefined;
    }
    return this.#attempt(event, deliveryCount, held);
  }

  /**
   * One run of the handler. Every path ends with the entry released: acknowledged (or
   * dead-lettered by the handler) on success; retried, dead-lettered or left pending on failure.
   * Returns undefined when that already happened (the handler returned synchronously), else a
   * promise that settles when it has, retries included: ordering lanes wait for it.
   */
  #attempt(event: E, deliveryCount: number, held: boolean): Promise<void> | undefined {
    const attempt = new Attempt<E>(this.#owner, event, deliveryCount);
    const started = this.#events.has('processed') ? performance.now() : 0;
    let result: unknown;
    // An entry not held yet still counts in flight while its handler runs.
    const running = held ? 0 : 1;
    this.#running += running;
    try {
      const tracer = this.#tracer;
      if (tracer === undefined) result = this.#handler(event, attempt);
      else {
        const traced = startHandlerSpan(tracer, this.#target, event);
        attempt.span = traced.span;
        result = runInContext(traced.context, this.#handler, event, attempt);
      }
    } catch (error) {
      this.#running -= running;
      return this.#failed(attempt, error);
    }
    this.#running -= running;
    if (result !== null && typeof result === 'object' && typeof (result as PromiseLike<void>).then === 'function') {
      this.#held.set(event.id, attempt);
      return this.#settle(attempt, started, result as PromiseLike<void>);
    }
    this.#succeeded(attempt, started);
    if (held) this.#release(event.id);
    return undefined;
  }

  /** Waits for a handler's promise (and its timeout, if any). The one promise of the async case. */
  async #settle(attempt: Attempt<E>, started: number, result: PromiseLike<void>): Promise<void> {
    try {
      await (this.options.handlerTimeoutMs === undefined ? result : this.#withTimeout(attempt, result, this.options.handlerTimeoutMs));
    } catch (error) {
      return this.#failed(attempt, error);
    }
    this.#succeeded(attempt, started);
    this.#release(attempt.event.id);
  }

  #succeeded(attempt: Attempt<E>, started: number): void {
    if (attempt.span) endHandlerSpan(attempt.span);
    // Dead-lettered by the handler: the dead-letter step acknowledged it.
    if (attempt.deadLettered) return;
    const { event } = attempt;
    this.#acker.ack(event.id);
    if (started) this.#events.emit('processed', { event, deliveryCount: attempt.deliveryCount, durationMs: performance.now() - started });
  }

  /** After a failed attempt: a retry after a backoff, or the dead-letter stream. */
  async #failed(attempt: Attempt<E>, error: unknown): Promise<void> {
    const { event } = attempt;
    if (attempt.span) failHandlerSpan(attempt.span, error);
    // Held from now on, if it was not; and the attempt is over: close() has nothing to abort
    // until the next one starts.
    this.#held.set(event.id, undefined);
    let next: { event: E; deliveryCount: number } | undefined;
    try {
      next = await this.#retryOrDeadLetter(attempt, error);
    } catch (failure) {
      // Not expected (every step catches its own errors); left pending, reclaimed later.
      this.#report(failure, `handling the failure of ${event.id}`, event.id);
    }
    if (next) return this.#attempt(next.event, next.deliveryCount, true);
    this.#release(event.id);
  }

  /** The delivery to attempt next, or undefined once the entry is dead-lettered or left pending. */
  async #retryOrDeadLetter(attempt: Attempt<E>, error: unknown): Promise<{ event: E; deliveryCount: number } | undefined> {
    const { event, deliveryCount } = attempt;
    // The handler dead-lettered it: its outcome is ignored.
    if (attempt.deadLettered) return undefined;
    // An attempt cut short by close() is not a failure of the event: it stays pending.
    if (this.#closing) return undefined;
    this.#events.emit('failed', { event, deliveryCount, error });
    if (isNonRetryable(error)) {
      await this.#deadLetter(event.id, 'non-retryable', errorMessage(error), deliveryCount);
      return undefined;
    }
    if (deliveryCount >= this.options.maxDeliveries) {
      await this.#deadLetter(event.id, 'max-deliveries', errorMessage(error), deliveryCount);
      return undefined;
    }
    const delayMs = backoffDelay(this.options.backoff, deliveryCount);
    this.#log.retrying(event.id, deliveryCount, delayMs, error);
    this.#events.emit('retrying', { event, deliveryCount, delayMs, error });
    await this.#sleep(delayMs);
    if (this.#closing) return undefined;
    // A retry calls the downstream again: it waits for a token like a first delivery. The entry
    // is held meanwhile, so the heartbeat keeps it from looking idle.
    if (this.#rateLimit !== undefined && !(await this.#waitForToken(this.#rateLimit))) return undefined;
    const next = await this.#redeliverWithRetry(event.id);
    if (!next || this.#closing) return undefined;
    if (next.kind === 'missing') {
      await this.#deadLetter(event.id, 'missing', MISSING, next.deliveryCount);
      return undefined;
    }
    try {
      const decoded = decodeEntry<E>(this.#decoder, next.entry);
      return { event: decoded instanceof Promise ? await decoded : decoded, deliveryCount: next.deliveryCount };
    } catch (decodeError) {
      await this.#deadLetter(event.id, 'undecodable', errorMessage(decodeError), next.deliveryCount);
      return undefined;
    }
  }

  async #redeliverWithRetry(id: string) {
    for (;;) {
      try {
        const result = await redeliver(this.#conn, this.#target, id);
        return result.kind === 'gone' ? undefined : result;
      } catch (error) {
        if (this.#closing) return undefined;
        this.#report(error, `redelivering ${id}`, id);
        await this.#sleep(500);
      }
    }
  }

  /** The handler's promise, failing with TimeoutError (and aborting its signal) after `timeoutMs`. */
  #withTimeout(attempt: Attempt<E>, result: PromiseLike<void>, timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        attempt.abort(new TimeoutError(`The handler took longer than ${timeoutMs} ms`));
        reject(new TimeoutError(`The handler took longer than handlerTimeout (${timeoutMs} ms)`));
      }, timeoutMs);
    });
    return Promise.race([result, timeout]).finally(() => clearTimeout(timer));
  }

  async #deadLetterAndRelease(id: string, reason: string, error: string, deliveryCount: number): Promise<void> {
    await this.#deadLetter(id, reason, error, deliveryCount);
    this.#release(id);
  }

  /** The entry is done here (acknowledged, dead-lettered, or left pending). */
  #release(id: string): void {
    this.#held.delete(id);
    this.#wakeFetcher();
    if (this.#held.size > 0) return;
    this.#onDrained?.();
    // Caught up and nothing held: the group may be idle now rather than after the next BLOCK.
    if (this.#caughtUp && !this.#closing && this.#events.has('idle')) void this.#checkIdle();
  }

  async #deadLetter(id: string, reason: string, error: string, deliveryCount: number): Promise<void> {
    for (;;) {
      try {
        const deadLetterId = await deadLetterEntry(this.#conn, {
          stream: this.stream,
          deadLetter: this.options.deadLetter,
          group: this.options.group,
          consumer: this.options.consumer,
          id,
          reason,
          error,
          deliveryCount,
        });
        if (deadLetterId) this.#deadLettered({ id, deadLetterId, reason, error, deliveryCount });
        return;
      } catch (failure) {
        // Left pending if this never succeeds: reclaimed and dead-lettered later, never dropped.
        if (this.#closing || failure instanceof ClosedError) return;
        this.#report(failure, `dead-lettering ${id}`, id);
        await this.#sleep(500);
      }
    }
  }

  /** Periodic work on the shared connection: keep held entries fresh, reclaim, tidy consumers. */
  async #maintain(): Promise<void> {
    if (this.#closing || this.#maintaining) return;
    this.#maintaining = true;
    try {
      if (this.#held.size > 0) await touchEntries(this.#conn, this.#target, [...this.#held.keys()]);
      this.#reclaimDue = true;
      if (this.options.removeIdleConsumersMs > 0) {
        await removeIdleConsumers(this.#conn, this.stream, this.options.group, this.options.removeIdleConsumersMs, this.options.consumer);
      }
      this.#retention?.poke();
    } catch (error) {
      if (!this.#closing && !isNoGroup(error)) this.#report(error, 'maintenance (heartbeat, idle consumers)');
    } finally {
      this.#maintaining = false;
    }
  }

  #maintaining = false;
  /** Set by the maintenance timer; the fetch loop reclaims before its next read. */
  #reclaimDue = false;

  async #reclaimSafely(): Promise<void> {
    try {
      await this.#reclaim();
    } catch (error) {
      if (!this.#closing && !isNoGroup(error)) this.#report(error, 'reclaiming idle entries');
    }
  }
  /** The last XREADGROUP returned fewer entries than asked: nothing more is waiting right now. */
  #caughtUp = false;

  async #reclaim(): Promise<void> {
    for (;;) {
      const free = this.options.concurrency - this.#held.size;
      if (free <= 0 || this.#closing || this.#paused) return;
      // Claimed entries start their handlers at once: with a rate limit, claim only as many as there are tokens.
      const count = this.#rateLimit === undefined ? free : await this.#takeTokens(this.#rateLimit, free);
      if (count === 0) continue;
      const result = await reclaimIdle(
        this.#conn,
        { ...this.#target, deadLetter: this.options.deadLetter },
        { minIdleMs: this.options.claimIdleMs, cursor: this.#reclaimCursor, count },
      );
      this.#reclaimCursor = result.cursor;
      if (this.#rateLimit !== undefined && result.claimed.length < count) this.#rateLimit.giveBack(count - result.claimed.length);
      for (const { id, deadLetterId } of result.deadLettered) {
        this.#deadLettered({ id, deadLetterId, reason: 'missing', error: MISSING, deliveryCount: -1 });
      }
      if (result.claimed.length > 0) this.#tracer = activeTracer();
      for (const { entry, deliveryCount } of result.claimed) this.#dispatch(entry, deliveryCount);
      const ids = result.claimed.map((c) => c.entry[0]).concat(result.deadLettered.map((d) => d.id));
      if (ids.length > 0) this.#reclaimed({ ids, count: ids.length });
      if (result.cursor === '0-0') return;
    }
  }

  async #checkIdle(): Promise<void> {
    try {
      // Acks are batched: send the ones still queued, or the group looks busy for one more BLOCK.
      await this.#acker.flush();
      const groups = (await this.#conn.command<unknown[]>(['XINFO', 'GROUPS', this.stream])).map(pairs);
      const group = groups.find((g) => g.name === this.options.group);
      if (!group || Number(group.pending) > 0) return;
      let lag = group.lag === null || group.lag === undefined ? undefined : Number(group.lag);
      if (lag === undefined) {
        // Redis cannot tell after some deletions: look for any entry past the group's position.
        const after = await this.#conn.command<RawEntry[]>(['XRANGE', this.stream, `(${String(group['last-delivered-id'])}`, '+', 'COUNT', '1']);
        lag = after.length;
      }
      if (lag === 0 && this.#held.size === 0) this.#events.emit('idle', {});
    } catch (error) {
      this.#report(error, 'checking whether the group is idle');
    }
  }

  /**
   * Waits until a worthwhile batch fits (see `#minRead`). Fetching the moment one slot frees
   * would mean XREADGROUP COUNT 1 round trips under load.
   */
  async #waitForCapacity(): Promise<void> {
    while (!this.#closing && (this.#paused || this.#readSize() === 0)) {
      await new Promise<void>((resolve) => (this.#capacityWaiter = resolve));
    }
  }

  #wakeFetcher(): void {
    const waiter = this.#capacityWaiter;
    this.#capacityWaiter = undefined;
    waiter?.();
  }

  /** A wait that close() cuts short. */
  #sleep(ms: number): Promise<void> {
    if (this.#closing) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#sleepers.add(wake);
    });
  }

  #deadLettered(payload: WorkerEvents['dead-lettered']): void {
    this.#log.deadLettered(payload, this.#events.taken('dead-lettered'));
    this.#events.emit('dead-lettered', payload);
  }

  #reclaimed(payload: WorkerEvents['reclaimed']): void {
    this.#log.reclaimed(payload, this.#events.taken('reclaimed'));
    this.#events.emit('reclaimed', payload);
  }

  /** Reported to `error` listeners, else logged (the emitter's fallback); `eventId` when one entry is concerned. */
  #report(error: unknown, context: string, eventId?: string): void {
    if (this.#conn.closed) {
      // The connection this worker was given was closed (sluice.close()): nothing can be acked
      // or reclaimed any more. Stop, rather than keep a blocking read and a timer alive forever,
      // reporting the same error on every pass.
      void this.close({ timeout: 0 });
      return;
    }
    this.#events.emit('error', eventId === undefined ? { error, context } : { error, context, eventId });
  }

  async #close(timeoutMs: number): Promise<void> {
    this.#closing = true;
    if (this.#maintenance) clearInterval(this.#maintenance);
    for (const wake of [...this.#sleepers]) wake();
    this.#wakeFetcher();
    // Interrupts a waiting XREADGROUP at once.
    this.#fetchConn?.destroy();
    await this.ready.catch(() => undefined);
    await this.#loop?.catch(() => undefined);
    if (this.#held.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const finished = new Promise<boolean>((resolve) => (this.#onDrained = () => resolve(true)));
      const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
      const inTime = await Promise.race([finished, timedOut]);
      clearTimeout(timer);
      this.#onDrained = undefined;
      if (!inTime) {
        // Handlers still running: tell them to stop. Their entries stay pending (not acked).
        for (const attempt of this.#held.values()) attempt?.abort(new ClosedError('The worker'));
      }
    }
    await this.#acker.flush().catch((error: unknown) => this.#report(error, 'flushing acknowledgements at close'));
  }
}

/**
 * By code, not `instanceof`: a handler module may import another copy of sluice (a global CLI
 * running a project's handler), whose NonRetryableError is a different class.
 */
function isNonRetryable(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ERR_NON_RETRYABLE';
}

function decodeFailure(error: unknown): DeadLetterReason {
  return error instanceof SluiceError && error.code === 'ERR_SCHEMA' ? 'schema' : 'undecodable';
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
