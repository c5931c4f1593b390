import { ClosedError, SluiceError, TimeoutError } from '../errors.js';
import type { RedisConnection } from '../redis/connection.js';
import { isRetryable } from '../redis/redis-errors.js';
import { decodeEntry, entriesOfXread, type EntryDecoder, type RawEntry } from '../stream/entries.js';
import type { EventEnvelope } from '../stream/event.js';
import { pairs } from '../stream/stream-info.js';
import type { RetentionEnforcer } from '../flow/retention.js';
import { Acker } from './acker.js';
import { backoffDelay } from './backoff.js';
import { deadLetterEntry } from './dead-letter.js';
import { ensureGroup, isGroupLost, isNoGroup } from './group.js';
import { removeIdleConsumers } from './idle-consumers.js';
import { KeyLanes } from './key-lanes.js';
import { resolveConsumerOptions, type ConsumerOptions, type ResolvedConsumerOptions } from './options.js';
import { ownPending, reclaimIdle, redeliver, touchEntries, type ReclaimTarget } from './reclaim.js';
import { TypedEmitter, type DeadLetterReason, type WorkerEvents } from './worker-events.js';

/**
 * Thrown by a handler to dead-letter the event at once, without retries (bad data that will
 * never succeed).
 */
export class NonRetryableError extends SluiceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_NON_RETRYABLE', message, options);
  }
}

/** What a handler gets besides the event. */
export interface HandlerContext {
  /** Deliveries of this entry so far, this one included (1 on the first). Lives in Redis. */
  readonly deliveryCount: number;
  readonly group: string;
  readonly consumer: string;
  /** Aborted when the handler times out (`handlerTimeout`) or the worker is closing. */
  readonly signal: AbortSignal;
  /** Moves the event to the dead-letter stream now (no retries); the handler's outcome is then ignored. */
  deadLetter(reason: string): Promise<void>;
}

/**
 * Processes one event. Resolve (or return) → the entry is acknowledged. Throw → it is delivered
 * again after a backoff, until `maxDeliveries`, then dead-lettered. Throw `NonRetryableError`
 * or call `ctx.deadLetter(reason)` → dead-lettered at once. Delivery is at-least-once: a handler
 * may see an event again after a crash, so make its effects idempotent (e.g. keyed on `event.id`).
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
}

type Outcome = { kind: 'ok' } | { kind: 'dead-lettered' } | { kind: 'failed'; error: unknown };

const OK: Outcome = { kind: 'ok' };
const DEAD_LETTERED: Outcome = { kind: 'dead-lettered' };

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
  /** Entries held (running, awaiting retry, or queued behind their key), by ID. */
  readonly #held = new Map<string, { abort?: (reason: unknown) => void }>();
  readonly #tasks = new Set<Promise<void>>();
  #fetchConn: RedisConnection | undefined;
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

  constructor(deps: WorkerDeps, options: ConsumerOptions<E>, handler: Handler<E>) {
    if (typeof handler !== 'function') throw new TypeError('Expected the handler to be a function (event, ctx) => Promise<void>');
    this.stream = deps.decoder.stream;
    this.options = resolveConsumerOptions(this.stream, options);
    this.#conn = deps.conn;
    this.#decoder = deps.decoder;
    this.#retention = deps.retention;
    this.#handler = handler;
    this.#target = { stream: this.stream, group: this.options.group, consumer: this.options.consumer };
    this.#events = new TypedEmitter<WorkerEvents<E>>((name, payload) => {
      // Nobody listens for errors: say so on stderr rather than lose them.
      if (name === 'error') {
        const { error, context } = payload as WorkerEvents['error'];
        process.stderr.write(`sluice worker ${this.options.group}/${this.options.consumer}: ${context}: ${(error as Error)?.message ?? String(error)}\n`);
      }
    });
    this.#acker = new Acker(this.#conn, this.stream, this.options.group, (error) => this.#report(error, 'acknowledging entries'));
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
    return this.#held.size;
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
    await ensureGroup(this.#conn, this.stream, this.options.group, this.options.startFrom);
    this.#fetchConn = await this.#conn.duplicate(`sluice:${this.options.group}:${this.options.consumer}`);
    if (this.#closing) {
      await this.#fetchConn.close();
      return;
    }
    const maintenanceEvery = Math.max(5, Math.min(Math.floor(this.options.claimIdleMs / 3), 10_000));
    this.#maintenance = setInterval(() => void this.#maintain(), maintenanceEvery);
    this.#loop = this.#fetchLoop();
  }

  async #fetchLoop(): Promise<void> {
    await this.#recoverOwnPending();
    const conn = this.#fetchConn as RedisConnection;
    while (!this.#closing) {
      await this.#waitForCapacity();
      if (this.#closing) break;
      if (this.#reclaimDue) {
        // Reclaimed here, between reads, not from the maintenance timer: a read is sized for the
        // capacity free when it starts, so entries claimed while it waits would push the worker
        // past `concurrency` once it returns.
        this.#reclaimDue = false;
        await this.#reclaimSafely();
        continue;
      }
      const count = Math.min(this.options.batchSize, this.options.concurrency - this.#held.size);
      let reply: unknown;
      try {
        reply = await conn.command(
          ['XREADGROUP', 'GROUP', this.options.group, this.options.consumer, 'COUNT', String(count), 'BLOCK', String(this.options.block), 'STREAMS', this.stream, '>'],
          { deadline: Date.now() + this.options.block + conn.options.commandTimeoutMs, retry: false },
        );
        this.#outage = false;
      } catch (error) {
        if (this.#closing) break;
        await this.#recover(conn, error);
        continue;
      }
      const entries = entriesOfXread(reply);
      this.#caughtUp = entries.length < count;
      if (entries.length > 0 && this.#paused) await this.#holdWhilePaused(entries);
      if (this.#closing) break; // what was read stays pending: reclaimed later
      for (const entry of entries) this.#dispatch(entry, 1);
      if (entries.length === 0 && this.#held.size === 0 && this.#events.has('idle')) await this.#checkIdle();
    }
  }

  /**
   * A read already waiting when pause() was called can still return entries. They are pending on
   * this consumer now: hold them (counted in flight, kept fresh by the heartbeat) and run them
   * on resume(), so that no handler starts while paused. On close they are left pending.
   */
  async #holdWhilePaused(entries: RawEntry[]): Promise<void> {
    for (const [id] of entries) this.#held.set(id, {});
    while (this.#paused && !this.#closing) await new Promise<void>((resolve) => (this.#capacityWaiter = resolve));
    for (const [id] of entries) this.#held.delete(id);
  }

  /** After a failed XREADGROUP: re-create a lost group, or wait out an outage. */
  async #recover(conn: RedisConnection, error: unknown): Promise<void> {
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
          await this.#redeliverAndDispatch(id);
        }
        this.#events.emit('reclaimed', { ids, count: ids.length });
      }
    } catch (error) {
      this.#report(error, 'recovering own pending entries');
    }
  }

  async #redeliverAndDispatch(id: string): Promise<void> {
    const result = await redeliver(this.#conn, this.#target, id);
    if (result.kind === 'claimed') this.#dispatch(result.entry, result.deliveryCount);
    else if (result.kind === 'missing') await this.#deadLetter(id, 'missing', 'the entry was trimmed or deleted while pending', result.deliveryCount);
  }

  #dispatch(entry: RawEntry, deliveryCount: number): void {
    const id = entry[0];
    if (this.#held.has(id)) return;
    this.#held.set(id, {});
    const task = this.#run(entry, deliveryCount).finally(() => {
      this.#held.delete(id);
      this.#tasks.delete(task);
      this.#wakeFetcher();
      // Caught up and nothing held: the group may be idle now rather than after the next BLOCK.
      if (this.#held.size === 0 && this.#caughtUp && !this.#closing && this.#events.has('idle')) void this.#checkIdle();
    });
    this.#tasks.add(task);
  }

  async #run(entry: RawEntry, deliveryCount: number): Promise<void> {
    const id = entry[0];
    let event: E;
    try {
      if (entry[1] === null) {
        await this.#deadLetter(id, 'missing', 'the entry was trimmed or deleted while pending', deliveryCount);
        return;
      }
      const decoded = decodeEntry<E>(this.#decoder, entry);
      event = decoded instanceof Promise ? await decoded : decoded;
    } catch (error) {
      const reason: DeadLetterReason = error instanceof SluiceError && error.code === 'ERR_SCHEMA' ? 'schema' : 'undecodable';
      await this.#deadLetter(id, reason, errorMessage(error), deliveryCount);
      return;
    }
    const key = this.options.ordering === 'key' ? (this.options.key ? this.options.key(event) : event.meta?.key) : undefined;
    if (key === undefined) await this.#process(event, deliveryCount);
    else await this.#lanes.run(key, () => this.#process(event, deliveryCount));
  }

  /** Runs the handler until it succeeds, the entry is dead-lettered, or the worker closes. */
  async #process(event: E, firstDelivery: number): Promise<void> {
    if (firstDelivery > this.options.maxDeliveries) {
      // Reclaimed with its deliveries used up, none of them ended in an ack or a failure: the
      // consumers that took it stopped mid-handler (crashed, killed). It may be what crashes them,
      // so it is not run again; otherwise it would be reclaimed and crash workers forever.
      const error = `delivered ${firstDelivery} times without a result: its consumers stopped while handling it`;
      await this.#deadLetter(event.id, 'max-deliveries', error, firstDelivery);
      return;
    }
    let deliveryCount = firstDelivery;
    let current = event;
    for (;;) {
      if (this.#closing) return; // left pending: delivered again later
      const started = this.#events.has('processed') ? performance.now() : 0;
      const outcome = await this.#attempt(current, deliveryCount);
      if (outcome.kind === 'ok') {
        this.#acker.ack(current.id);
        if (started) this.#events.emit('processed', { event: current, deliveryCount, durationMs: performance.now() - started });
        return;
      }
      if (outcome.kind === 'dead-lettered') return;
      const { error } = outcome;
      // An attempt cut short by close() is not a failure of the event: it stays pending.
      if (this.#closing) return;
      this.#events.emit('failed', { event: current, deliveryCount, error });
      if (isNonRetryable(error)) {
        await this.#deadLetter(current.id, 'non-retryable', errorMessage(error), deliveryCount);
        return;
      }
      if (deliveryCount >= this.options.maxDeliveries) {
        await this.#deadLetter(current.id, 'max-deliveries', errorMessage(error), deliveryCount);
        return;
      }
      const delayMs = backoffDelay(this.options.backoff, deliveryCount);
      this.#events.emit('retrying', { event: current, deliveryCount, delayMs, error });
      await this.#sleep(delayMs);
      if (this.#closing) return;
      const next = await this.#redeliverWithRetry(current.id);
      if (!next) return;
      if (next.kind === 'missing') {
        await this.#deadLetter(current.id, 'missing', 'the entry was trimmed or deleted while pending', next.deliveryCount);
        return;
      }
      deliveryCount = next.deliveryCount;
      try {
        const decoded = decodeEntry<E>(this.#decoder, next.entry);
        current = decoded instanceof Promise ? await decoded : decoded;
      } catch (decodeError) {
        await this.#deadLetter(current.id, 'undecodable', errorMessage(decodeError), deliveryCount);
        return;
      }
    }
  }

  async #redeliverWithRetry(id: string) {
    for (;;) {
      try {
        const result = await redeliver(this.#conn, this.#target, id);
        return result.kind === 'gone' ? undefined : result;
      } catch (error) {
        if (this.#closing) return undefined;
        this.#report(error, `redelivering ${id}`);
        await this.#sleep(500);
      }
    }
  }

  async #attempt(event: E, deliveryCount: number): Promise<Outcome> {
    const held = this.#held.get(event.id);
    let deadLettered = false;
    let timer: NodeJS.Timeout | undefined;
    // One controller per attempt, made on first use (most handlers never look at the signal).
    // Aborting makes it too: a handler that first reads ctx.signal after its timeout or after
    // close() gave up on it must see it aborted, not a fresh signal.
    let controller: AbortController | undefined;
    const control = () => (controller ??= new AbortController());
    const abort = (reason: unknown) => control().abort(reason);
    if (held) held.abort = abort;
    const ctx: HandlerContext = {
      deliveryCount,
      group: this.options.group,
      consumer: this.options.consumer,
      get signal() {
        return control().signal;
      },
      deadLetter: async (reason: string) => {
        deadLettered = true;
        await this.#deadLetter(event.id, String(reason), `dead-lettered by the handler: ${String(reason)}`, deliveryCount);
      },
    };
    try {
      const result = this.#handler(event, ctx);
      if (result && typeof (result as Promise<void>).then === 'function') {
        const timeoutMs = this.options.handlerTimeoutMs;
        if (timeoutMs === undefined) await result;
        else {
          await Promise.race([
            result,
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => {
                abort(new TimeoutError(`The handler took longer than ${timeoutMs} ms`));
                reject(new TimeoutError(`The handler took longer than handlerTimeout (${timeoutMs} ms)`));
              }, timeoutMs);
            }),
          ]);
        }
      }
      return deadLettered ? DEAD_LETTERED : OK;
    } catch (error) {
      return deadLettered ? DEAD_LETTERED : { kind: 'failed', error };
    } finally {
      if (timer) clearTimeout(timer);
      if (held?.abort === abort) held.abort = undefined;
    }
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
        if (deadLetterId) this.#events.emit('dead-lettered', { id, deadLetterId, reason, error, deliveryCount });
        return;
      } catch (failure) {
        // Left pending if this never succeeds: reclaimed and dead-lettered later, never dropped.
        if (this.#closing || failure instanceof ClosedError) return;
        this.#report(failure, `dead-lettering ${id}`);
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
      const result = await reclaimIdle(
        this.#conn,
        { ...this.#target, deadLetter: this.options.deadLetter },
        { minIdleMs: this.options.claimIdleMs, cursor: this.#reclaimCursor, count: free },
      );
      this.#reclaimCursor = result.cursor;
      for (const { id, deadLetterId } of result.deadLettered) {
        const error = 'the entry was trimmed or deleted while pending';
        this.#events.emit('dead-lettered', { id, deadLetterId, reason: 'missing', error, deliveryCount: -1 });
      }
      for (const { entry, deliveryCount } of result.claimed) this.#dispatch(entry, deliveryCount);
      const ids = result.claimed.map((c) => c.entry[0]).concat(result.deadLettered.map((d) => d.id));
      if (ids.length > 0) this.#events.emit('reclaimed', { ids, count: ids.length });
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
   * Waits until a worthwhile batch fits: at least half a batch (or half of `concurrency`) free.
   * Fetching the moment one slot frees would mean XREADGROUP COUNT 1 round trips under load.
   */
  async #waitForCapacity(): Promise<void> {
    const batch = Math.min(this.options.batchSize, this.options.concurrency);
    const limit = this.options.concurrency - Math.max(1, Math.floor(batch / 2)) + 1;
    while (!this.#closing && (this.#paused || this.#held.size >= limit)) {
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

  #report(error: unknown, context: string): void {
    if (this.#conn.closed) {
      // The connection this worker was given was closed (sluice.close()): nothing can be acked
      // or reclaimed any more. Stop, rather than keep a blocking read and a timer alive forever,
      // reporting the same error on every pass.
      void this.close({ timeout: 0 });
      return;
    }
    this.#events.emit('error', { error, context });
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
    if (this.#tasks.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      const finished = Promise.allSettled([...this.#tasks]).then(() => true);
      const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
      const inTime = await Promise.race([finished, timedOut]);
      clearTimeout(timer);
      if (!inTime) {
        // Handlers still running: tell them to stop. Their entries stay pending (not acked).
        for (const held of this.#held.values()) held.abort?.(new ClosedError('The worker'));
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

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
