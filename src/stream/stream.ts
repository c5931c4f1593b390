import { DeadLetterQueue } from '../consumer/dead-letter-queue.js';
import {
  createGroup,
  deleteGroup,
  resetGroup,
  type CreateGroupResult,
  type DeleteGroupOptions,
  type DeleteGroupResult,
  type ResetGroupResult,
} from '../consumer/group-admin.js';
import type { ConsumerOptions } from '../consumer/options.js';
import { Worker, type Handler } from '../consumer/worker.js';
import { InvalidOptionError } from '../errors.js';
import type { RedisConnection } from '../redis/connection.js';
import { codecByName, encodeMeta, type Codec, type CodecName } from './codec.js';
import { decodeEntry, type EntryDecoder, type RawEntry } from './entries.js';
import type { EventEnvelope, FieldsEvent, FieldsInput, JsonEvent, PublishMeta } from './event.js';
import type { BatchTrim, Publisher, PublishOutcome } from './publisher.js';
import type { Capabilities } from '../redis/capabilities.js';
import type { Logger } from '../observe/logger.js';
import { activeTraceparent, activeTracestate } from '../observe/trace-context.js';
import { isTraceparent } from '../observe/traceparent.js';
import type { ProducerEmitter } from './producer-events.js';
import type { BackpressureOptions } from '../flow/backpressure.js';
import type { Durability } from '../flow/durability.js';
import { ProducerFlow, type IdempotencyOptions } from '../flow/producer-flow.js';
import { readHeldBack, RetentionEnforcer, trimRespectingGroups, type TrimReport } from '../flow/retention.js';
import { readEvents, type ReadFrom, type ReadOptions } from './reader.js';
import { assertSchema, validate, type StandardSchemaV1 } from './schema.js';
import { readStreamInfo, type StreamInfo } from './stream-info.js';
import { rangeBound } from './stream-id.js';
import { assertStreamName, helperKey } from './stream-name.js';
import { parseRetention, trimAfterBatchArgs, trimCommands, xaddHead, type Retention, type RetentionPolicy } from './xadd-args.js';
import { windowedAll } from './windowed-all.js';

export interface StreamOptions {
  /**
   * How events are stored: `'fields'` (flat string fields, as redis-cli writes them) or
   * `'json'` (one `data` field holding JSON).
   * @default 'fields'
   */
  codec?: CodecName;
  /**
   * A Standard Schema (zod, valibot, arktype…) checked at publish (the input) and at read (the
   * decoded payload; its output, coercions included, becomes `fields` / `data`).
   */
  schema?: StandardSchemaV1;
  /**
   * Retention applied on write: `maxLen` on every XADD, `maxAge` once per published batch.
   * @example { maxLen: 10_000 }
   */
  retention?: RetentionPolicy;
  /**
   * How durable every publish must be before it resolves (see `Durability`); a publish may ask
   * for its own.
   * @default 'none'
   */
  durability?: Durability;
  /**
   * Producer backpressure: `maxLag` over the stream's groups and a hard `maxLen`, with
   * `onLimit: 'block' | 'reject'`.
   */
  backpressure?: BackpressureOptions;
  /** The dedupe window of publishes made with an `idempotencyKey`. @default { window: '1h', maxKeys: 100_000 } */
  idempotency?: IdempotencyOptions;
}

/** Per-publish options. */
export interface PublishOptions extends PublishMeta {
  /**
   * Publishes at most once per key within the stream's idempotency window: a repeat (a retry
   * after a lost reply, a redelivered request) returns the first publish's ID and writes nothing.
   * Stored as the `$idk` field.
   */
  idempotencyKey?: string;
  /** Durability of this publish, instead of the stream's. */
  durability?: Durability;
}

/** `publishMany`'s options: those of `publish`, with a key per event instead of one key. */
export interface PublishManyOptions<I = FieldsInput> extends Omit<PublishOptions, 'idempotencyKey'> {
  /**
   * Publishes each event at most once within the idempotency window: a string `K` keys the events
   * `K:0`, `K:1`… in order; a function returns each event's key.
   */
  idempotencyKey?: string | ((event: I, index: number) => string);
}

/** What `publishOnce` resolves to. */
export interface PublishOnceResult {
  /** The entry's ID: the one written now, or the earlier publish's for a duplicate. */
  id: string;
  /**
   * True when the key had been published within the window, so nothing was written now. After a
   * retry through a lost connection this can also be the call's own first attempt, whose reply
   * was lost: either way the event is stored exactly once.
   */
  duplicate: boolean;
}

export interface RangeOptions {
  /** First event: an ID, epoch ms, a Date or an ISO time. @default '-' (the oldest) */
  from?: string | number | Date;
  /** Last event, inclusive: an ID, epoch ms, a Date or an ISO time. @default '+' (the newest) */
  to?: string | number | Date;
  /** At most this many events. @default all of them */
  count?: number;
  /** Newest first (XREVRANGE). @default false */
  reverse?: boolean;
}

/** What `Stream` needs from the connection it belongs to. */
export interface StreamContext {
  conn: RedisConnection;
  publisher: Publisher;
  capabilities: () => Promise<Capabilities>;
  log: Logger;
  /** The publish timeout (commandTimeout). */
  timeoutMs: number;
  /** The connection's producer events. */
  events?: ProducerEmitter;
  /** Registers a worker so closing the connection closes it too. */
  track?: (worker: Worker) => void;
}

const RANGE_PAGE = 1000;

/**
 * A named Redis stream: publish, read (tail or replay), range, info and trim.
 * `E` is the event type read back; `I` what `publish` accepts.
 */
export class Stream<I = FieldsInput, E = FieldsEvent> {
  readonly name: string;
  readonly codec: Codec;
  readonly retention: Retention | undefined;
  readonly #ctx: StreamContext;
  readonly #schema: StandardSchemaV1 | undefined;
  readonly #decoder: EntryDecoder;
  readonly #head: string[];
  readonly #batchTrim: BatchTrim | undefined;
  readonly #flow: ProducerFlow;
  /** No producer guarantees configured: publishes take the bare XADD path. */
  readonly #plain: boolean;

  constructor(ctx: StreamContext, name: string, options: StreamOptions = {}) {
    if (options === null || typeof options !== 'object') throw new InvalidOptionError('options', options, 'an object');
    this.name = assertStreamName(name);
    this.codec = codecByName(options.codec);
    this.#schema = assertSchema(options.schema);
    this.retention = parseRetention(options.retention);
    this.#ctx = ctx;
    this.#decoder = { stream: name, codec: this.codec, schema: this.#schema };
    this.#head = xaddHead(name, this.retention);
    const retention = this.retention;
    this.#batchTrim = retention?.maxAgeMs === undefined ? undefined : { key: name, args: (now) => trimAfterBatchArgs(name, retention, now) };
    const flowOptions = { durability: options.durability, backpressure: options.backpressure, idempotency: options.idempotency, retention };
    this.#flow = new ProducerFlow(ctx, name, flowOptions);
    this.#plain = ProducerFlow.isPlain(flowOptions);
  }

  /** The group-respecting retention of this stream (producers run it every few seconds), if any. */
  get retentionEnforcer(): RetentionEnforcer | undefined {
    return this.#flow.enforcer;
  }

  /**
   * Appends one event (XADD with an auto ID) and resolves to its ID. Concurrent calls are sent
   * together as pipelined batches. Rejects with `InvalidFieldError` / `SchemaValidationError`
   * before anything is sent, and with `TimeoutError` / `NotConnectedError` when Redis could not
   * take it within the timeout (retries through short outages are built in).
   */
  publish(event: I, options?: PublishOptions): Promise<string> {
    try {
      if (this.#schema) {
        const checked = validate(this.#schema, event);
        if (checked instanceof Promise) return checked.then((value) => this.#send(value, options));
        return this.#send(checked, options);
      }
      return this.#send(event, options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Publishes at most once per `idempotencyKey` within the stream's idempotency window (as
   * `publish(event, { idempotencyKey })`) and says whether this call was a repeat: an HTTP handler
   * can answer a retried request with "already accepted", a job can count what it skipped. Like
   * the `duplicate` flag of a NATS JetStream publish acknowledgement.
   * @example
   * const { id, duplicate } = await orders.publishOnce(order, `order:${order.order_id}`);
   */
  async publishOnce(event: I, idempotencyKey: string, options?: Omit<PublishOptions, 'idempotencyKey'>): Promise<PublishOnceResult> {
    const payload = this.#schema ? await validate(this.#schema, event) : event;
    const outcome = { duplicate: false };
    const id = await this.#sendGuarded(payload, { ...options, idempotencyKey }, outcome);
    return { id, duplicate: outcome.duplicate };
  }

  /**
   * Appends many events, in order, and resolves to their IDs. Every event is checked before any
   * is sent, so a bad one rejects the call without writing the others. At most the producer
   * buffer's worth (`publisher.maxBuffered`) is unsettled at a time, the next ones sent as those
   * settle, so a large call never takes the places of callers waiting for room; after a failure
   * the call rejects with it, and sends nothing more.
   *
   * `idempotencyKey` keys each event, never the call: a string `K` gives the events `K:0`, `K:1`…
   * (the HTTP ingest's convention for a batch), so the same call made again stores nothing twice;
   * a function gives each event its own key, e.g. from its fields.
   * @example
   * await orders.publishMany(batch, { idempotencyKey: `import-${fileHash}` });
   * await orders.publishMany(batch, { idempotencyKey: (order) => `order-${order.order_id}` });
   */
  async publishMany(events: readonly I[], options?: PublishManyOptions<I>): Promise<string[]> {
    const batch = await this.#checkedBatch(events, options?.idempotencyKey, options);
    const publisher = this.#ctx.publisher;
    if (!batch.keyed && this.#isPlain(batch.shared)) {
      return windowedAll(batch.commands.length, publisher.maxBuffered, (i) => publisher.send(batch.commands[i] as string[], this.#batchTrim));
    }
    return windowedAll(batch.payloads.length, publisher.maxBuffered, (i) => this.#sendGuarded(batch.payloads[i], batch.perEvent[i]));
  }

  /**
   * `publishMany` with an idempotency key for each event (`K:0`, `K:1`… for a string `K`, or the
   * function's key per event), saying for each whether it had been published already (see
   * `publishOnce`): a retried import can report what it skipped.
   * @example
   * const results = await orders.publishManyOnce(batch, (order) => `order-${order.order_id}`);
   * const skipped = results.filter((r) => r.duplicate).length;
   */
  async publishManyOnce(
    events: readonly I[],
    idempotencyKey: string | ((event: I, index: number) => string),
    options?: Omit<PublishOptions, 'idempotencyKey'>,
  ): Promise<PublishOnceResult[]> {
    if (idempotencyKey === undefined) throw new InvalidOptionError('idempotencyKey', idempotencyKey, 'a string or a function (event, index) => string');
    const { payloads, perEvent } = await this.#checkedBatch(events, idempotencyKey, options);
    return windowedAll(payloads.length, this.#ctx.publisher.maxBuffered, async (i) => {
      const outcome = { duplicate: false };
      const id = await this.#sendGuarded(payloads[i], perEvent[i], outcome);
      return { id, duplicate: outcome.duplicate };
    });
  }

  /**
   * A batch checked whole before anything is sent (a bad event refuses the call): its payloads,
   * each one's command and options (with its own idempotency key), and the options they share.
   */
  async #checkedBatch(events: readonly I[], idempotencyKey: PublishManyOptions<I>['idempotencyKey'], options: PublishOptions | PublishManyOptions<I> | undefined) {
    if (!Array.isArray(events)) throw new InvalidOptionError('events', events, 'an array of events');
    const payloads: readonly unknown[] = this.#schema ? await Promise.all(events.map((e) => validate(this.#schema as StandardSchemaV1, e))) : events;
    const keyOf = idempotencyKeys(events, idempotencyKey);
    const shared: PublishOptions | undefined = options && withoutKey(options);
    const perEvent = payloads.map((_, i) => (keyOf === undefined ? shared : { ...shared, idempotencyKey: keyOf(i) }));
    const commands = payloads.map((payload, i) => this.#encode(payload, perEvent[i]));
    return { payloads, perEvent, commands, shared, keyed: keyOf !== undefined };
  }

  /**
   * Reads events in ID order (XREAD): `for await (const event of stream.read({ from: '0' }))`.
   * With `block`, it follows the stream until `break` or the signal; without, it ends once
   * caught up. See `ReadOptions`.
   */
  read(options: ReadOptions = {}): AsyncGenerator<E, void, undefined> {
    return readEvents<E>({ conn: this.#ctx.conn, decoder: this.#decoder }, options);
  }

  /** Events between two IDs or times, inclusive (XRANGE / XREVRANGE). */
  async range(options: RangeOptions = {}): Promise<E[]> {
    const reverse = options.reverse ?? false;
    let low = rangeBound(options.from, 'start', 'from');
    let high = rangeBound(options.to, 'end', 'to');
    const limit = options.count;
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1)) throw new InvalidOptionError('count', limit, 'a whole number ≥ 1');
    const events: E[] = [];
    for (;;) {
      const page = Math.min(RANGE_PAGE, limit === undefined ? RANGE_PAGE : limit - events.length);
      const command = reverse ? ['XREVRANGE', this.name, high, low, 'COUNT', String(page)] : ['XRANGE', this.name, low, high, 'COUNT', String(page)];
      const entries = await this.#ctx.conn.command<RawEntry[]>(command);
      for (const entry of entries) {
        const decoded = decodeEntry<E>(this.#decoder, entry);
        events.push(decoded instanceof Promise ? await decoded : decoded);
      }
      if (entries.length < page || (limit !== undefined && events.length >= limit)) return events;
      // Pages continue after the last entry: `(` makes the bound exclusive (Redis 6.2+).
      const lastId = (entries[entries.length - 1] as RawEntry)[0];
      if (reverse) high = `(${lastId}`;
      else low = `(${lastId}`;
    }
  }

  /**
   * Starts a consumer-group worker that runs `handler` for every event of the group: resolve →
   * acknowledged; throw → retried with backoff; after `maxDeliveries` → dead-lettered. The worker
   * starts at once; `await worker.ready` to know the group exists, `await worker.close()` to stop.
   */
  consume(options: ConsumerOptions<E>, handler: Handler<E>): Worker<E & EventEnvelope> {
    const worker = new Worker<E & EventEnvelope>(
      { conn: this.#ctx.conn, decoder: this.#decoder, retention: this.#workerRetention(), log: this.#ctx.log },
      options as ConsumerOptions<E & EventEnvelope>,
      handler as Handler<E & EventEnvelope>,
    );
    this.#ctx.track?.(worker as unknown as Worker);
    return worker;
  }

  /** The retention a worker runs: the producers' enforcer, or one respecting groups by default. */
  #workerRetention(): RetentionEnforcer | undefined {
    const retention = this.retention;
    if (!retention || retention.respectGroups === false) return undefined;
    return this.#flow.enforcer ?? new RetentionEnforcer(this.#ctx.conn, this.name, { ...retention, respectGroups: true }, this.#ctx.log);
  }

  /**
   * Creates a consumer group starting at `from` (`'$'`, the default: only events appended from
   * now on; `'0'`: the whole stream; an ID: the events after it; a Date or ISO time: the events
   * from then on), and the stream if missing. An existing group is left where it is.
   */
  createGroup(group: string, options: { from?: ReadFrom } = {}): Promise<CreateGroupResult> {
    return createGroup(this.#ctx.conn, this.name, group, options.from ?? '$');
  }

  /**
   * Moves a consumer group: its next read delivers the events after `to` (`'0'`: replay the whole
   * stream; a Date or ISO time: replay from then; `'$'`: skip everything there now). Running
   * workers go on from there; pending entries stay with their consumers. The group's lag stays
   * exact (Redis's entries-read counter is set with it).
   */
  resetGroup(group: string, options: { to: ReadFrom }): Promise<ResetGroupResult> {
    return resetGroup(this.#ctx.conn, this.name, group, options?.to);
  }

  /**
   * Deletes a consumer group, which stops it holding retention back. Refused (SluiceError
   * `ERR_GROUP_PENDING` / `ERR_GROUP_ACTIVE`) while it has pending entries or a consumer active in
   * the last minute, unless `force`.
   */
  deleteGroup(group: string, options?: DeleteGroupOptions): Promise<DeleteGroupResult> {
    return deleteGroup(this.#ctx.conn, this.name, group, options);
  }

  /** The dead-letter stream of this stream (`{<name>}:dlq`, or another key). */
  deadLetters(key?: string): DeadLetterQueue {
    return new DeadLetterQueue(this.#ctx.conn, this.name, key ?? helperKey(this.name, 'dlq'));
  }

  /** Length, first and last entries, memory, and each group with its consumers, pending and lag. */
  async info(): Promise<StreamInfo> {
    const [info, heldBack] = await Promise.all([readStreamInfo(this.#ctx.conn, this.name), readHeldBack(this.#ctx.conn, this.name)]);
    if (heldBack) info.retentionHeldBack = heldBack;
    return info;
  }

  /**
   * Applies a retention policy now and resolves to the number of entries removed. Without an
   * argument, applies the stream's own `retention`. With `respectGroups`, never removes an entry
   * a group has not been delivered or has not acknowledged (see `applyRetention` for which group
   * held it back).
   */
  async trim(policy?: RetentionPolicy): Promise<number> {
    return (await this.applyRetention(policy)).removed;
  }

  /** Like `trim`, and says which group, if any, held the trim back (how many entries, how old). */
  async applyRetention(policy?: RetentionPolicy): Promise<TrimReport> {
    const retention = policy === undefined ? this.retention : parseRetention(policy, 'policy');
    if (!retention) throw new InvalidOptionError('policy', policy, 'a policy like { maxLen: 10000 } (the stream has no retention of its own)');
    if (retention.respectGroups) return trimRespectingGroups(this.#ctx.conn, this.name, retention);
    const results = await this.#ctx.conn.pipeline(trimCommands(this.name, retention, Date.now()));
    let removed = 0;
    for (const result of results) {
      if (result instanceof Error) throw result;
      removed += Number(result);
    }
    return { removed };
  }

  #send(payload: unknown, options: PublishOptions | undefined): Promise<string> {
    if (this.#isPlain(options)) return this.#ctx.publisher.send(this.#encode(payload, options), this.#batchTrim);
    return this.#sendGuarded(payload, options as PublishOptions);
  }

  #isPlain(options: PublishOptions | undefined): boolean {
    return this.#plain && (options === undefined || (options.idempotencyKey === undefined && options.durability === undefined));
  }

  /** Publishing with backpressure, durability, idempotency or group-respecting retention. */
  async #sendGuarded(payload: unknown, options: PublishOptions | undefined, outcome?: PublishOutcome): Promise<string> {
    const args = this.#encode(payload, options); // refuses bad input before waiting on anything
    const admitted = this.#flow.admit();
    if (admitted) await admitted;
    try {
      const durability = this.#flow.durabilityOf(options?.durability);
      const idempotencyKey = options?.idempotencyKey;
      const extras = await this.#flow.extras(durability, idempotencyKey !== undefined);
      const command = idempotencyKey === undefined ? args : this.#flow.idempotentCommand(idempotencyKey, args.slice(2));
      return await this.#ctx.publisher.send(command, this.#batchTrim, outcome ? { ...extras, outcome } : extras);
    } finally {
      // The backpressure gate counts admitted publishes until they settle, so its cached reading
      // cannot let this producer past the limits.
      this.#flow.settled();
    }
  }

  #encode(payload: unknown, options: PublishOptions | undefined): string[] {
    const args = this.codec.encode(payload, this.#head);
    if (options) {
      if (options.traceparent !== undefined && !isTraceparent(options.traceparent)) {
        throw new InvalidOptionError('traceparent', options.traceparent, 'a W3C traceparent like 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
      }
      if (options.tracestate !== undefined && options.traceparent === undefined) {
        throw new InvalidOptionError('tracestate', options.tracestate, 'a tracestate given with its traceparent (the two travel together)');
      }
      encodeMeta(options, args);
      if (options.traceparent !== undefined) return args;
    }
    // `$tp` only inside a span: without tracing (no SDK, or no active span) the event stays
    // exactly its own fields.
    const traceparent = activeTraceparent();
    if (traceparent !== undefined) {
      args.push('$tp', traceparent);
      const tracestate = activeTracestate();
      if (tracestate !== undefined) args.push('$ts', tracestate);
    }
    return args;
  }
}

/** The key of each event of a `publishMany`, or undefined when the call has none. */
function idempotencyKeys<I>(events: readonly I[], key: PublishManyOptions<I>['idempotencyKey']): ((index: number) => string) | undefined {
  if (key === undefined) return undefined;
  if (typeof key === 'string') {
    // Checked here, once: `K:0` would hide an empty `K`.
    if (key === '') throw new InvalidOptionError('idempotencyKey', key, 'a non-empty string, or a function (event, index) => string');
    return (index) => `${key}:${index}`;
  }
  if (typeof key !== 'function') throw new InvalidOptionError('idempotencyKey', key, 'a non-empty string, or a function (event, index) => string');
  return (index) => {
    const value = key(events[index] as I, index);
    if (typeof value !== 'string' || value === '') {
      throw new InvalidOptionError(`idempotencyKey(events[${index}])`, value, 'a non-empty string (the key of that event)');
    }
    return value;
  };
}

/** The options shared by every event of a batch: all but the per-event key. */
function withoutKey<T extends object>(options: T): Omit<T, 'idempotencyKey'> {
  const { idempotencyKey: _key, ...rest } = options as T & { idempotencyKey?: unknown };
  return rest;
}

/** A stream of the json codec, typed by its payload. */
export type JsonStream<T> = Stream<T, JsonEvent<T>>;
