import type { Metric, Registry } from 'prom-client';

/** One sample of a metric: its value, labels, and for histograms the series (`x_bucket`…). */
export interface Sample {
  value: number;
  labels?: Record<string, string | number>;
  metricName?: string;
}

export type MetricType = 'counter' | 'gauge' | 'histogram';

export interface CollectedMetricOptions {
  name: string;
  help: string;
  type: MetricType;
  /** The samples at scrape time. */
  collect: () => Sample[] | Promise<Sample[]>;
}

/**
 * A metric whose samples are computed when the registry is scraped, from a source that already
 * holds the numbers (an overview read from Redis, a worker's tally). Nothing is copied into
 * prom-client on the hot path, and a series that disappears from the source disappears from the
 * scrape. It speaks prom-client's metric protocol (`name`, `type`, `get()`, `reset()`), so it sits
 * in any `Registry` beside the application's own metrics.
 */
export class CollectedMetric {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly aggregator = 'sum';
  readonly #collect: () => Sample[] | Promise<Sample[]>;

  constructor(options: CollectedMetricOptions) {
    this.name = options.name;
    this.help = options.help;
    this.type = options.type;
    this.#collect = options.collect;
  }

  async get(): Promise<{ name: string; help: string; type: MetricType; values: Sample[]; aggregator: string }> {
    return { name: this.name, help: this.help, type: this.type, values: await this.#collect(), aggregator: this.aggregator };
  }

  /** Values live in their source: nothing to reset here (`registry.resetMetrics()` calls it). */
  reset(): void {}

  /** Adds the metric to `registry` (throws if the name is taken, as prom-client does). */
  register(registry: Registry): this {
    // prom-client types registerMetric for its own classes, but the registry only calls `name`,
    // `type`, `get()` and `reset()`: the protocol this class implements.
    registry.registerMetric(this as unknown as Metric);
    return this;
  }
}
