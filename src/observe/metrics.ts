import { collectDefaultMetrics, Registry } from 'prom-client';
import { InvalidOptionError } from '../errors.js';
import { checkBuckets } from './histogram-tally.js';
import { OverviewMetrics, type OverviewSource } from './overview-metrics.js';
import { ProducerMetrics, type ProducerEventSource } from './producer-metrics.js';
import { WorkerMetrics, type InstrumentableWorker, type WorkerLabels } from './worker-metrics.js';

/** Histogram bounds, in the metric's unit (seconds, or events for batch sizes). */
export interface MetricBuckets {
  /**
   * `worker_handler_duration_seconds`: handlers of a pipeline usually take milliseconds.
   * @default [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
   */
  handlerDuration?: readonly number[];
  /**
   * `worker_end_to_end_latency_seconds`: from append to handled, which includes time spent waiting
   * in the backlog.
   * @default [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600]
   */
  latency?: readonly number[];
  /**
   * `producer_batch_size`, in events.
   * @default [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000]
   */
  batchSize?: readonly number[];
  /**
   * `producer_batch_duration_seconds`.
   * @default the handlerDuration default
   */
  batchDuration?: readonly number[];
}

export const DEFAULT_HANDLER_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
export const DEFAULT_LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600] as const;
export const DEFAULT_BATCH_SIZE_BUCKETS = [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000] as const;

export interface MetricsOptions {
  /**
   * The prom-client registry to add Sluice's metrics to, beside the application's own.
   * @default a new Registry
   */
  registry?: Registry;
  /**
   * Prefix of every metric name.
   * @default 'sluice_'
   * @example 'orders_pipeline_'
   */
  prefix?: string;
  /**
   * Where stream and group figures come from at scrape time (an `OverviewReader`); without one
   * only the process-side metrics (workers, producers) are exported. Can be set later with
   * `metrics.useOverview()`.
   */
  overview?: OverviewSource;
  /**
   * Also export prom-client's process metrics (CPU, memory, event-loop lag, GC; unprefixed, as
   * dashboards expect them).
   * @default true for a new registry, false when `registry` is given (it may have them already)
   */
  processMetrics?: boolean;
  buckets?: MetricBuckets;
}

/**
 * Sluice's Prometheus metrics in one registry: stream and group figures read from Redis at scrape
 * time, worker counters and histograms, producer counters. Render with `metrics.render()`, or
 * serve with the server's `GET /metrics` or `serveMetrics()`.
 *
 * @example
 * const metrics = createMetrics({ overview: new OverviewReader({ sluice }) });
 * instrumentWorker(metrics, worker);
 * instrumentProducer(metrics, sluice);
 * const text = await metrics.render();
 */
export class Metrics {
  readonly registry: Registry;
  readonly prefix: string;
  readonly workers: WorkerMetrics;
  readonly producers: ProducerMetrics;
  readonly #overview: OverviewMetrics;

  constructor(options: MetricsOptions = {}) {
    if (options === null || typeof options !== 'object') throw new InvalidOptionError('options', options, 'an object like { prefix: "sluice_" }');
    const prefix = options.prefix ?? 'sluice_';
    // Prometheus metric names: letters, digits, `_` and `:`, not starting with a digit.
    if (typeof prefix !== 'string' || !/^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/.test(prefix)) {
      throw new InvalidOptionError('prefix', options.prefix, 'a metric name prefix of letters, digits, `_` or `:` (not starting with a digit), like sluice_');
    }
    if (options.registry !== undefined && !(options.registry instanceof Registry)) {
      throw new InvalidOptionError('registry', options.registry, "a prom-client Registry (import { Registry } from 'prom-client')");
    }
    if (options.overview !== undefined) checkSource(options.overview);
    const buckets = options.buckets ?? {};
    const handlerDuration = checkBuckets('buckets.handlerDuration', buckets.handlerDuration ?? DEFAULT_HANDLER_BUCKETS);
    const latency = checkBuckets('buckets.latency', buckets.latency ?? DEFAULT_LATENCY_BUCKETS);
    const batchSize = checkBuckets('buckets.batchSize', buckets.batchSize ?? DEFAULT_BATCH_SIZE_BUCKETS);
    const batchDuration = checkBuckets('buckets.batchDuration', buckets.batchDuration ?? DEFAULT_HANDLER_BUCKETS);
    this.prefix = prefix;
    this.registry = options.registry ?? new Registry();
    if (options.processMetrics ?? options.registry === undefined) collectDefaultMetrics({ register: this.registry });
    this.#overview = new OverviewMetrics(this.registry, prefix, options.overview);
    this.workers = new WorkerMetrics(this.registry, prefix, { handlerDuration, latency });
    this.producers = new ProducerMetrics(this.registry, prefix, { batchSize, batchDuration });
  }

  /** The overview the stream and group metrics are read from, if any. */
  get overview(): OverviewSource | undefined {
    return this.#overview.source;
  }

  /** Sets the source of stream and group figures (an `OverviewReader`). */
  useOverview(source: OverviewSource): this {
    this.#overview.use(checkSource(source));
    return this;
  }

  /** The `Content-Type` of `render()`'s text. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric of the registry in the Prometheus text format (reads the overview once). */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}

function checkSource(source: OverviewSource): OverviewSource {
  if (source === null || typeof source !== 'object' || typeof source.read !== 'function') {
    throw new InvalidOptionError('overview', source, 'an OverviewReader (or an object with a read() method returning an overview)');
  }
  return source;
}

/** Creates Sluice's metrics (see `Metrics`). */
export function createMetrics(options: MetricsOptions = {}): Metrics {
  return new Metrics(options);
}

/**
 * Counts a worker's events (processed, failed, retried, dead-lettered, reclaimed, handler
 * duration, end-to-end latency) under `{ stream, group }` labels, the worker's by default. Returns
 * a function that stops counting. The per-event cost is a few additions: no timer, no allocation.
 *
 * @example
 * const worker = orders.consume({ group: 'billing' }, handle);
 * instrumentWorker(metrics, worker);
 */
export function instrumentWorker(metrics: Metrics, worker: InstrumentableWorker, labels?: WorkerLabels): () => void {
  return metrics.workers.instrument(worker, labels);
}

/**
 * Counts a connection's producer events: events published per stream, batch sizes and durations,
 * backpressure waits and rejections. Returns a function that stops counting.
 */
export function instrumentProducer(metrics: Metrics, sluice: ProducerEventSource): () => void {
  return metrics.producers.instrument(sluice);
}
