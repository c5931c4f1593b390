import type { Registry } from 'prom-client';
import { InvalidOptionError } from '../errors.js';
import { CollectedMetric, type Sample } from './collected-metric.js';
import type { Sluice } from '../sluice.js';
import type { ProducerEvents } from '../stream/producer-events.js';
import { HistogramTally } from './histogram-tally.js';

/** What instrumentProducer needs of a connection: its producer events (a `Sluice` has them). */
export type ProducerEventSource = Pick<Sluice, 'on' | 'off'>;

export interface ProducerBuckets {
  batchSize: readonly number[];
  batchDuration: readonly number[];
}

class StreamTally {
  published = 0;
  constructor(readonly labels: { stream: string }) {}
}

/** Backpressure of one stream and limit (`buffer`, `max-len`, `max-lag`). */
class LimitTally {
  waits = 0;
  rejections = 0;
  waitSeconds = 0;
  constructor(readonly labels: { stream: string; limit: string }) {}
}

/**
 * Producer metrics, per stream (published events) and per stream and limit (backpressure waits
 * and rejections), and per
 * connection (batch sizes and durations: a batch may span streams). Fed by a connection's events,
 * which come once per batch, not per event.
 */
export class ProducerMetrics {
  readonly #streams = new Map<string, StreamTally>();
  readonly #limits = new Map<string, LimitTally>();
  readonly #batchSize: HistogramTally;
  readonly #batchDuration: HistogramTally;

  constructor(registry: Registry, prefix: string, buckets: ProducerBuckets) {
    this.#batchSize = new HistogramTally(buckets.batchSize);
    this.#batchDuration = new HistogramTally(buckets.batchDuration);
    new CollectedMetric({
      name: `${prefix}producer_published_total`,
      help: 'Events published (stored by Redis).',
      type: 'counter',
      collect: () => [...this.#streams.values()].map((t) => ({ labels: t.labels, value: t.published })),
    }).register(registry);
    const limit = (name: string, help: string, value: (t: LimitTally) => number) =>
      new CollectedMetric({
        name: `${prefix}${name}`,
        help,
        type: 'counter',
        collect: () => [...this.#limits.values()].map((t) => ({ labels: t.labels, value: value(t) })),
      }).register(registry);
    limit('producer_backpressure_waits_total', 'Publishes that waited for a limit (the producer buffer, or the stream’s maxLen / maxLag) to clear.', (t) => t.waits);
    limit('producer_backpressure_rejections_total', 'Publishes refused by a limit (BackpressureError, or a TimeoutError after waiting for a full buffer).', (t) => t.rejections);
    limit('producer_backpressure_wait_seconds_total', 'Time publishes spent held back by a limit, refused ones included.', (t) => t.waitSeconds);
    const histogram = (name: string, help: string, tally: HistogramTally) => {
      const full = `${prefix}${name}`;
      new CollectedMetric({
        name: full,
        help,
        type: 'histogram',
        collect: () => {
          const out: Sample[] = [];
          tally.samples(full, {}, out);
          return out;
        },
      }).register(registry);
    };
    histogram('producer_batch_size', 'Events per pipelined batch sent to Redis.', this.#batchSize);
    histogram('producer_batch_duration_seconds', 'Time from sending a pipelined batch to its last reply.', this.#batchDuration);
  }

  /** Counts a connection's producer events until the returned function is called. */
  instrument(source: ProducerEventSource): () => void {
    if (source === null || typeof source !== 'object' || typeof source.on !== 'function') {
      throw new InvalidOptionError('sluice', source, 'a Sluice connection (from `connect()`)');
    }
    const published = (p: ProducerEvents['published']) => void (this.#tally(p.stream).published += p.count);
    const batch = (p: ProducerEvents['batch']) => {
      this.#batchSize.observe(p.events);
      this.#batchDuration.observe(p.ms / 1000);
    };
    const backpressure = (p: ProducerEvents['backpressure']) => {
      const key = `${p.stream}\n${p.limit}`;
      let t = this.#limits.get(key);
      if (!t) this.#limits.set(key, (t = new LimitTally({ stream: p.stream, limit: p.limit })));
      if (p.action === 'reject') t.rejections++;
      else t.waits++;
      t.waitSeconds += Math.max(0, p.waitMs) / 1000;
    };
    source.on('published', published);
    source.on('batch', batch);
    source.on('backpressure', backpressure);
    let attached = true;
    return () => {
      if (!attached) return;
      attached = false;
      source.off('published', published);
      source.off('batch', batch);
      source.off('backpressure', backpressure);
    };
  }

  #tally(stream: string): StreamTally {
    let t = this.#streams.get(stream);
    if (!t) this.#streams.set(stream, (t = new StreamTally({ stream })));
    return t;
  }
}

