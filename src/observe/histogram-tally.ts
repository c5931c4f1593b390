import { InvalidOptionError } from '../errors.js';
import type { Sample } from './collected-metric.js';

/**
 * A histogram kept in plain numbers: observing costs a short loop over the bounds and three
 * additions, no label hashing and no allocation, so it can sit on a consumer's per-event path.
 * Its buckets are turned into Prometheus samples only at scrape time (`samples`).
 */
export class HistogramTally {
  /** Observations per bucket (not cumulative); the last slot is `+Inf`. */
  readonly #counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.#counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const { bounds } = this;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.#counts[i] = (this.#counts[i] as number) + 1;
    this.sum += value;
    this.count++;
  }

  /**
   * Adds this tally's samples (`<name>_bucket` cumulative with `le`, `<name>_sum`, `<name>_count`)
   * to `out`, with `labels` on each.
   */
  samples(name: string, labels: Record<string, string>, out: Sample[]): void {
    let cumulative = 0;
    this.bounds.forEach((bound, i) => {
      cumulative += this.#counts[i] as number;
      out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: bound }, value: cumulative });
    });
    out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: this.count });
    out.push({ metricName: `${name}_sum`, labels, value: this.sum });
    out.push({ metricName: `${name}_count`, labels, value: this.count });
  }
}

/** Checks bucket bounds given as an option: finite and strictly increasing. */
export function checkBuckets(option: string, value: unknown): readonly number[] {
  const ok =
    Array.isArray(value) &&
    value.length > 0 &&
    value.every((b, i) => typeof b === 'number' && Number.isFinite(b) && (i === 0 || b > (value[i - 1] as number)));
  if (!ok) throw new InvalidOptionError(option, value, 'a non-empty array of finite numbers in increasing order, like [0.001, 0.01, 0.1, 1]');
  return value as number[];
}
