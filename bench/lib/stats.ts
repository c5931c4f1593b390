/** The median of the rounds: robust to one round disturbed by GC or another process. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Events per second for `count` events done in `ms` milliseconds. */
export function rate(count: number, ms: number): number {
  return (count * 1000) / ms;
}

/**
 * Now, in epoch milliseconds with sub-millisecond precision. Comparable between processes on one
 * machine (both sides derive it from the same clock), unlike `performance.now()` alone.
 */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * The `p`-th percentile (0–100) of values sorted ascending, nearest-rank: the smallest value with
 * at least p% of the values at or below it.
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

/** One timed run: wall time, and the CPU time this Node process spent (user + system). */
export interface Sample {
  ms: number;
  /** Undefined when the work ran in another process (redis-benchmark). */
  cpuMs?: number;
  /** When the timing started, in epoch ms (`epochMs()`): lines up runs of several processes. */
  startedAt?: number;
}

/**
 * Times `fn`. The CPU time is the client's cost alone, so it is comparable between client methods
 * even when other processes share the machine; the wall time is what a user sees.
 */
export async function measure(fn: () => Promise<void>): Promise<Sample> {
  const cpu = process.cpuUsage();
  const startedAt = epochMs();
  const start = performance.now();
  await fn();
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { ms, cpuMs: (used.user + used.system) / 1000, startedAt };
}
