import { ClosedError, InvalidInputError, InvalidOptionError } from '../errors.js';
import { isTracestate } from '../observe/traceparent.js';
import { connect, Sluice } from '../sluice.js';
import type { CodecName } from '../stream/codec.js';
import type { PublishOptions, Stream, StreamOptions } from '../stream/stream.js';
import { assertStreamName } from '../stream/stream-name.js';
import { parseRetention, type RetentionPolicy } from '../stream/xadd-args.js';
import type { IdempotencyOptions } from '../flow/producer-flow.js';
import { InFlight } from './in-flight.js';
import { OptionReader } from './options.js';
import { SinkRejectedError, SinkUnavailableError, type Sink, type SinkContext, type SinkEvent } from './sink.js';

/** Options of the stream sink. */
export interface StreamSinkOptions {
  /** The stream events are republished to. */
  stream: string;
  /**
   * The Redis connection to publish with (not closed by the sink).
   * @default a connection of the sink's own to `url`
   */
  connection?: Sluice;
  /**
   * The Redis server, when no `connection` is given.
   * @default process.env.REDIS_URL, else the managed local redis-server
   */
  url?: string;
  /**
   * The target stream's codec: a `fields` event republished to a `json` stream becomes its
   * `data`; a `json` event goes to a `fields` stream only if its data is a flat object.
   * @default 'fields'
   */
  codec?: CodecName;
  /** The target stream's retention on write. @example { maxLen: 10_000 } */
  retention?: RetentionPolicy;
  /**
   * How long a republished event is remembered, so its redelivery is not published again.
   * @default { window: '1h' }
   */
  idempotency?: IdempotencyOptions;
}

const OPTION_NAMES = ['stream', 'connection', 'url', 'codec', 'retention', 'idempotency'] as const;

/**
 * Republishes events to another Sluice stream, idempotently: each publish carries the
 * idempotency key `<source stream>:<event ID>`, so an event redelivered within the target's
 * idempotency window (1 hour by default) is not published twice. Its `key`, `type`,
 * `traceparent` and `tracestate` metadata go along.
 *
 * An event the target cannot hold (its schema or codec refuses it) is refused with
 * `SinkRejectedError`; Redis being unreachable, out of memory or too slow is retryable.
 *
 * @example
 * new StreamSink({ connection: sluice, stream: 'events:orders:paid' })
 */
export class StreamSink implements Sink {
  readonly name: string;
  readonly idempotent = true;
  readonly #target: string;
  readonly #streamOptions: StreamOptions;
  readonly #url: string | undefined;
  readonly #inFlight = new InFlight();
  #connection: Promise<Sluice> | undefined;
  readonly #ownsConnection: boolean;
  #stream: Stream<unknown, unknown> | undefined;
  #closed: Promise<void> | undefined;

  /**
   * @param options the target stream and the connection
   * @param at where the options came from, for error messages (`pipelines.orders.sinks[0]`)
   */
  constructor(options: StreamSinkOptions, at = '') {
    const reader = new OptionReader(options, 'a stream sink', at);
    reader.only(OPTION_NAMES);
    this.#target = assertStreamName(reader.string('stream', { required: true }));
    this.name = `stream:${this.#target}`;
    const codec = reader.oneOf('codec', ['fields', 'json'], 'fields');
    this.#streamOptions = { codec };
    if (options.retention !== undefined) {
      parseRetention(options.retention, reader.path('retention'));
      this.#streamOptions.retention = options.retention;
    }
    const idempotency = reader.record('idempotency', 'an object like { window: "1h" }');
    if (idempotency !== undefined) {
      const nested = new OptionReader(idempotency, 'the idempotency options', reader.path('idempotency'));
      nested.only(['window', 'maxKeys']);
      nested.duration('window', 3_600_000, { min: 1 });
      nested.integer('maxKeys', 100_000, { min: 1 });
      this.#streamOptions.idempotency = idempotency as IdempotencyOptions;
    }
    this.#url = reader.string('url');
    if (this.#url !== undefined && !/^rediss?:\/\/./.test(this.#url)) {
      throw new InvalidOptionError(reader.path('url'), this.#url, 'a Redis URL like redis://127.0.0.1:6379 or rediss://host:6380');
    }
    if (options.connection !== undefined) {
      if (!(options.connection instanceof Sluice)) throw new InvalidOptionError(reader.path('connection'), options.connection, 'a Sluice connection (from connect())');
      if (this.#url !== undefined) throw new InvalidOptionError(reader.path('url'), this.#url, 'absent when `connection` is given');
      // Building the stream now checks its options (retention, idempotency) when the sink is built.
      this.#stream = options.connection.stream(this.#target, this.#streamOptions);
      this.#connection = Promise.resolve(options.connection);
      this.#ownsConnection = false;
    } else {
      this.#ownsConnection = true;
    }
  }

  write(events: readonly SinkEvent[], ctx: SinkContext): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError(`The sink ${this.name}`));
    return this.#inFlight.track(this.#write(events, ctx));
  }

  /** Waits for publishes in flight; closes the connection if the sink opened it. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#inFlight.settled();
      if (this.#ownsConnection && this.#connection) await (await this.#connection.catch(() => undefined))?.close();
    })();
    return this.#closed;
  }

  async #write(events: readonly SinkEvent[], ctx: SinkContext): Promise<void> {
    if (ctx.signal.aborted) throw new SinkUnavailableError(`${this.name}: the write was aborted before it started`, { cause: ctx.signal.reason });
    if (events.length === 0) return;
    const stream = await this.#open();
    const results = await Promise.allSettled(events.map((event) => stream.publish(payloadOf(event), publishOptions(event))));
    const refused: string[] = [];
    let failure: unknown;
    let firstRefusal: unknown;
    results.forEach((result, i) => {
      if (result.status === 'fulfilled') return;
      if (result.reason instanceof InvalidInputError) {
        refused.push((events[i] as SinkEvent).id);
        firstRefusal ??= result.reason;
      } else {
        failure ??= result.reason;
      }
    });
    if (failure !== undefined) {
      throw new SinkUnavailableError(`${this.name}: ${failure instanceof Error ? failure.message : String(failure)}`, { cause: failure });
    }
    if (refused.length > 0) {
      throw new SinkRejectedError(`${this.name}: ${refused.length} of ${events.length} events refused: ${(firstRefusal as Error).message}`, {
        eventIds: refused,
        cause: firstRefusal,
      });
    }
  }

  async #open(): Promise<Stream<unknown, unknown>> {
    if (this.#stream) return this.#stream;
    this.#connection ??= connect(this.#url === undefined ? {} : { url: this.#url }).catch((error: unknown) => {
      this.#connection = undefined; // the next write tries again
      throw new SinkUnavailableError(`${this.name}: cannot connect to Redis: ${(error as Error).message}`, { cause: error });
    });
    const sluice = await this.#connection;
    this.#stream ??= sluice.stream(this.#target, this.#streamOptions);
    return this.#stream;
  }
}

function payloadOf(event: SinkEvent): unknown {
  return event.fields ?? event.data;
}

function publishOptions(event: SinkEvent): PublishOptions {
  const options: PublishOptions = { idempotencyKey: `${event.stream}:${event.id}` };
  if (event.meta?.key !== undefined) options.key = event.meta.key;
  if (event.meta?.type !== undefined) options.type = event.meta.type;
  if (event.meta?.traceparent !== undefined) {
    options.traceparent = event.meta.traceparent;
    // Its trace state goes along when it is one (another client may have written anything there).
    if (isTracestate(event.meta.tracestate)) options.tracestate = event.meta.tracestate;
  }
  return options;
}
