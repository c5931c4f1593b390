import type { Registry } from 'prom-client';
import { InvalidOptionError } from '../errors.js';
import type { DeadLetterReason, WorkerEvents } from '../consumer/worker-events.js';
import type { EventEnvelope } from '../stream/event.js';
import { CollectedMetric, type Sample } from './collected-metric.js';
import { HistogramTally } from './histogram-tally.js';

/** The part of a worker that metrics use: its events, its in-flight count and its identity. */
export interface InstrumentableWorker {
  readonly stream: string;
  readonly group: string;
  readonly inFlight: number;
  readonly closed: Promise<void>;
  /** Metrics only watch: the worker keeps logging what they count (see `Worker.watch`). */
  watch<K extends keyof WorkerEvents>(name: K, listener: (payload: WorkerEvents[K]) => void): unknown;
  unwatch<K extends keyof WorkerEvents>(name: K, listener: (payload: WorkerEvents[K]) => void): unknown;
}

/** Labels of a worker's series. */
export interface WorkerLabels {
  /** @default the worker's stream */
  stream?: string;
  /** @default the worker's group */
  group?: string;
}

/** A listener for some of a worker's events. */
type WorkerListeners = { [K in keyof WorkerEvents]?: (payload: WorkerEvents[K]) => void };

/** Calls `fn` with each event of `listeners` and its listener (to watch them all, or unwatch them). */
function forEachListener(listeners: WorkerListeners, fn: <K extends keyof WorkerEvents>(name: K, listener: (payload: WorkerEvents[K]) => void) => void): void {
  for (const name of Object.keys(listeners) as Array<keyof WorkerEvents>) {
    const listener = listeners[name] as ((payload: WorkerEvents[typeof name]) => void) | undefined;
    if (listener) fn(name, listener);
  }
}

const REASONS: ReadonlySet<string> = new Set<DeadLetterReason>(['max-deliveries', 'non-retryable', 'missing', 'undecodable', 'schema']);

/** The counts of every worker of one stream and group in this process (counters never go down). */
class WorkerTally {
  processed = 0;
  failed = 0;
  retried = 0;
  reclaimed = 0;
  /** Seconds workers waited for the group's rate limit. */
  rateLimitedSeconds = 0;
  readonly deadLettered = new Map<string, number>();
  readonly duration: HistogramTally;
  readonly latency: HistogramTally;
  /** Workers running now, for the in-flight gauge. */
  readonly live = new Set<InstrumentableWorker>();

  constructor(
    readonly labels: { stream: string; group: string },
    buckets: WorkerBuckets,
  ) {
    this.duration = new HistogramTally(buckets.handlerDuration);
    this.latency = new HistogramTally(buckets.latency);
  }
}

export interface WorkerBuckets {
  handlerDuration: readonly number[];
  latency: readonly number[];
}

/**
 * Worker metrics: counters and histograms kept as plain numbers per stream and group, turned
 * into samples when scraped. Labels are the stream and the group only (never an event ID or a
 * consumer name), so the number of series stays that of the groups consumed here.
 */
export class WorkerMetrics {
  readonly #tallies = new Map<string, WorkerTally>();

  constructor(
    registry: Registry,
    prefix: string,
    private readonly buckets: WorkerBuckets,
  ) {
    const counter = (name: string, help: string, value: (t: WorkerTally) => number) =>
      new CollectedMetric({ name: `${prefix}${name}`, help, type: 'counter', collect: () => this.#each((t) => ({ labels: t.labels, value: value(t) })) }).register(registry);
    counter('worker_processed_total', 'Entries whose handler succeeded (then acknowledged).', (t) => t.processed);
    counter('worker_failed_total', 'Handler attempts that failed (each attempt counts).', (t) => t.failed);
    counter('worker_retried_total', 'Failed entries scheduled for another delivery after a backoff.', (t) => t.retried);
    counter('worker_reclaimed_total', 'Entries taken over from stopped consumers (or this consumer after a restart).', (t) => t.reclaimed);
    counter('worker_rate_limited_seconds_total', "Time workers waited for a token of the group's rateLimit (0 without one).", (t) => t.rateLimitedSeconds);
    new CollectedMetric({
      name: `${prefix}worker_dead_lettered_total`,
      help: 'Entries moved to the dead-letter stream, by reason.',
      type: 'counter',
      collect: () => {
        const out: Sample[] = [];
        for (const t of this.#tallies.values()) for (const [reason, value] of t.deadLettered) out.push({ labels: { ...t.labels, reason }, value });
        return out;
      },
    }).register(registry);
    new CollectedMetric({
      name: `${prefix}worker_in_flight`,
      help: 'Entries being handled now (running workers of the stream and group in this process).',
      type: 'gauge',
      collect: () =>
        this.#each((t) => {
          let value = 0;
          for (const w of t.live) value += w.inFlight;
          return { labels: t.labels, value };
        }),
    }).register(registry);
    const histogram = (name: string, help: string, tally: (t: WorkerTally) => HistogramTally) => {
      const full = `${prefix}${name}`;
      new CollectedMetric({
        name: full,
        help,
        type: 'histogram',
        collect: () => {
          const out: Sample[] = [];
          for (const t of this.#tallies.values()) tally(t).samples(full, t.labels, out);
          return out;
        },
      }).register(registry);
    };
    histogram('worker_handler_duration_seconds', 'Time the handler took for entries it handled successfully.', (t) => t.duration);
    histogram(
      'worker_end_to_end_latency_seconds',
      "From the event's append (its ID's time) to the end of its successful handling.",
      (t) => t.latency,
    );
  }

  /**
   * Counts a worker's events under `labels` until it closes (or the returned function is called).
   * Several workers of one stream and group add up to one series.
   */
  instrument(worker: InstrumentableWorker, labels: WorkerLabels = {}): () => void {
    if (worker === null || typeof worker !== 'object' || typeof worker.watch !== 'function') {
      throw new InvalidOptionError('worker', worker, 'a Worker (from `stream.consume()`)');
    }
    const stream = labels.stream ?? worker.stream;
    const group = labels.group ?? worker.group;
    if (typeof stream !== 'string' || typeof group !== 'string') throw new InvalidOptionError('labels', labels, 'an object like { stream: "events:orders", group: "billing" }');
    const key = `${stream}\n${group}`;
    let tally = this.#tallies.get(key);
    if (!tally) this.#tallies.set(key, (tally = new WorkerTally({ stream, group }, this.buckets)));
    const t = tally;
    t.live.add(worker);
    // The per-event listener: counts and two histogram slots, nothing allocated.
    const processed = (p: WorkerEvents['processed']) => {
      t.processed++;
      t.duration.observe(p.durationMs / 1000);
      t.latency.observe(Math.max(0, Date.now() - (p.event as EventEnvelope).time) / 1000);
    };
    // Watched, not listened to: the worker keeps logging what metrics only count (dead letters,
    // reclaims). Errors are not counted here.
    const failed = () => void t.failed++;
    const retrying = () => void t.retried++;
    const reclaimed = (p: WorkerEvents['reclaimed']) => void (t.reclaimed += p.count);
    const rateLimited = (p: WorkerEvents['rate-limited']) => void (t.rateLimitedSeconds += p.waitMs / 1000);
    const deadLettered = (p: WorkerEvents['dead-lettered']) => {
      // Reasons are a closed set; anything else counts as `other` so a label never takes free text.
      const reason = REASONS.has(p.reason) ? p.reason : 'other';
      t.deadLettered.set(reason, (t.deadLettered.get(reason) ?? 0) + 1);
    };
    const listeners: WorkerListeners = { processed, failed, retrying, reclaimed, 'dead-lettered': deadLettered, 'rate-limited': rateLimited };
    forEachListener(listeners, (name, listener) => worker.watch(name, listener));
    let attached = true;
    const detach = () => {
      if (!attached) return;
      attached = false;
      t.live.delete(worker);
      forEachListener(listeners, (name, listener) => worker.unwatch(name, listener));
    };
    // Counts stay (counters never go down); only the in-flight gauge forgets the worker.
    void worker.closed.then(() => t.live.delete(worker));
    return detach;
  }

  #each(sample: (t: WorkerTally) => Sample): Sample[] {
    const out: Sample[] = [];
    for (const t of this.#tallies.values()) out.push(sample(t));
    return out;
  }
}
