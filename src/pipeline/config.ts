import type { ConsumerOptions } from '../consumer/options.js';
import type { SinkConfig } from '../sinks/create-sink.js';
import type { Sink, SinkEvent } from '../sinks/sink.js';
import type { SourceConfig } from '../sources/source.js';

/**
 * An event inside a pipeline: the envelope (`stream`, `id`, `time`, `meta`) and the payload,
 * `fields` (fields codec: flat strings) or `data` (json codec). What sinks receive.
 */
export type PipelineEvent = SinkEvent;

/**
 * Keeps an event (true) or drops it (false). Throwing dead-letters the event, unless the error
 * says `retryable: true` (then the event is retried with backoff).
 */
export type FilterFunction = (event: PipelineEvent) => boolean | Promise<boolean>;

/**
 * What a map function may return for an event: an event, or just its payload (`{ fields }` or
 * `{ data }`): the envelope (`stream`, `id`, `time`, `meta`) is then the input event's.
 */
export type MapResult = Omit<PipelineEvent, 'stream' | 'id' | 'time'> & Partial<Pick<PipelineEvent, 'stream' | 'id' | 'time'>>;

/**
 * Transforms an event: return the event to pass on (a new object, or the same one changed), just
 * its new payload (`{ fields }`), `undefined` to pass on the event it was given (changed in
 * place), or `null` to drop it. Throwing dead-letters the event, unless the error says
 * `retryable: true` (then it is retried with backoff).
 */
export type MapFunction = (event: PipelineEvent) => MapResult | null | undefined | void | Promise<MapResult | null | undefined | void>;

/**
 * A map function in a JavaScript module: `module` is a path (relative to the YAML file, or to
 * the current folder) or a package name; `export` the exported function's name.
 * @example { module: './enrich.mjs', export: 'addRegion' }
 */
export interface MapModule {
  module: string;
  /** @default 'default' */
  export?: string;
}

/**
 * A CEL expression (see docs/pipelines.md: the event's fields are variables) or a function.
 * @example 'status == "paid" && double(amount) > 100'
 */
export type Condition = string | FilterFunction;

/** Where a route sends events: sink configs (as `createSink` takes them) or sink objects. */
export type SinkTarget = SinkConfig | Sink;

/** Keeps the events for which the condition is true; the others are acknowledged and dropped. */
export interface FilterStep {
  filter: Condition;
}

/**
 * Sets fields: each key is a field, each value a CEL expression evaluated against the event as
 * it came into the step (so `{ a: 'b', b: 'a' }` swaps). A `null` result removes the field; the
 * fields not named are kept. Or a function, or a module's function (see `MapFunction`).
 * @example { map: { amount_cents: 'string(int(double(amount) * 100.0))', status: 'status.upperAscii()' } }
 */
export interface MapStep {
  map: Record<string, string> | MapFunction | MapModule;
}

/** One case of a route: events for which `when` is true go to every sink of `to`. */
export interface RouteCase {
  when: Condition;
  to: SinkTarget | SinkTarget[];
}

/** Where a route sends the events no case took. */
export interface RouteDefault {
  default: SinkTarget | SinkTarget[];
}

/**
 * Content-based routing, the last step: the first case whose `when` is true takes the event;
 * without a match it goes to the `default` case, else to the pipeline's `sinks`, else it is
 * dropped (acknowledged, counted as filtered).
 */
export interface RouteStep {
  route: Array<RouteCase | RouteDefault>;
}

export type StepConfig = FilterStep | MapStep | RouteStep;

/** How events are grouped into sink writes. */
export interface BatchConfig {
  /**
   * Events per write: a sink's batch is written as soon as this many events wait.
   * @default 100
   */
  size?: number;
  /**
   * The longest the first event of a batch waits for the batch to fill (a number of ms, or
   * `'50ms'`, `'1s'`…): under a light load, events are written after at most this delay.
   * @default '50ms'
   */
  linger?: number | string;
}

/**
 * A pipeline: where events come from, what happens to them, where they go.
 *
 * @example
 * definePipeline({
 *   name: 'orders-to-db',
 *   source: { type: 'stream', stream: 'events:orders' },
 *   steps: [{ filter: 'status != "cancelled"' }, { map: { amount_cents: 'string(int(double(amount) * 100.0))' } }],
 *   sinks: [{ type: 'sqlite', table: 'orders' }],
 * });
 */
export interface PipelineConfig {
  /** The pipeline's name: in logs and metrics, and the default consumer group. */
  name: string;
  source: SourceConfig;
  /** Filters and maps, in order, and at most one route, last. @default [] */
  steps?: StepConfig[];
  /** Where events go that no route takes (or every event, without a route step). */
  sinks?: SinkTarget[];
  /** Sink write batching. @default { size: 100, linger: '50ms' } */
  batch?: BatchConfig;
  /**
   * The pipeline's consumer-group worker: `concurrency` (default: twice `batch.size`, and never
   * less than it), `maxDeliveries`, `backoff`, `claimIdle`, `handlerTimeout`, `consumer`…
   * See `ConsumerOptions`.
   */
  consumer?: Partial<ConsumerOptions>;
}
