/**
 * The producer of a latency round: publishes order events at a steady rate against a fixed
 * schedule (see `pace`), each carrying its publish time in `sent_at` (epoch ms, `epochMs()`).
 * `go {startAt}` starts it; it prints `done {published, errors, slips}` once every publish settled.
 */
import { connect } from '../../src/index.js';
import { connectNodeRedis } from '../baselines/node-redis-group-worker.js';
import { RawRedis } from '../baselines/raw-redis.js';
import { pace } from '../lib/pacer.js';
import { RunnerChannel, runChild } from '../lib/runner-channel.js';
import { epochMs, percentile } from '../lib/stats.js';

export type LatencyMethod = 'sluice' | 'node-redis' | 'raw';

export interface LatencyProducerOptions {
  method: LatencyMethod;
  url: string;
  key: string;
  rate: number;
  /** Events to publish in all (warm-up included). */
  total: number;
  /** Events before this index are the warm-up: their lateness is not reported. */
  measureFromIndex: number;
}

export interface LatencyProducerDone {
  published: number;
  errors: number;
  firstError?: string;
  /** How late events went out against their slot (ms), over the measured events. */
  slipP50Ms: number;
  slipP99Ms: number;
  slipMaxMs: number;
  /** Events per second actually issued over the measured events. */
  issuedRate: number;
  /** CPU time of this process from `go` until every publish settled. */
  cpuMs: number;
}

runChild(async () => {
  const channel = new RunnerChannel<LatencyProducerOptions>();
  const { method, url, key, rate, total, measureFromIndex } = channel.options;
  let publish: (fields: Record<string, string>) => Promise<unknown>;
  let close: () => Promise<void>;
  if (method === 'sluice') {
    const sluice = await connect({ url });
    const stream = sluice.stream(key);
    publish = (fields) => stream.publish(fields);
    close = () => sluice.close();
  } else if (method === 'raw') {
    const redis = await RawRedis.connect(url);
    // The commands of one tick go out in one write.
    publish = (fields) => redis.call(['XADD', key, '*', ...Object.entries(fields).flat()]);
    close = () => redis.close();
  } else {
    const client = await connectNodeRedis(url);
    // One XADD per event, not awaited: node-redis writes the commands of one tick together.
    publish = (fields) => client.xAdd(key, '*', fields);
    close = () => client.close();
  }
  channel.send('ready');
  const { startAt } = JSON.parse(await channel.next('go ')) as { startAt: number };
  const cpu = process.cpuUsage();

  const slips = new Float64Array(Math.max(0, total - measureFromIndex));
  let settled = 0;
  let errors = 0;
  let firstError: string | undefined;
  let allSettled: () => void = () => undefined;
  const settledAll = new Promise<void>((resolve) => (allSettled = resolve));
  const onSettled = () => {
    if (++settled === total) allSettled();
  };
  const onError = (error: unknown) => {
    errors++;
    firstError ??= error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    onSettled();
  };
  let firstMeasuredAt = 0;
  let lastMeasuredAt = 0;
  const pacer = pace({
    rate,
    startAt,
    total,
    onEvent(i, scheduledAt) {
      const now = epochMs();
      if (i >= measureFromIndex) {
        slips[i - measureFromIndex] = now - scheduledAt;
        if (i === measureFromIndex) firstMeasuredAt = now;
        lastMeasuredAt = now;
      }
      publish({ order_id: '12345', customer_id: '67890', amount: '99.99', status: 'pending', sent_at: now.toFixed(3) }).then(onSettled, onError);
    },
  });
  await pacer.done;
  await settledAll;
  const used = process.cpuUsage(cpu);
  await close();
  slips.sort();
  const done: LatencyProducerDone = {
    published: total - errors,
    errors,
    ...(firstError ? { firstError } : {}),
    slipP50Ms: percentile(slips, 50),
    slipP99Ms: percentile(slips, 99),
    slipMaxMs: slips[slips.length - 1] ?? NaN,
    issuedRate: ((slips.length - 1) * 1000) / (lastMeasuredAt - firstMeasuredAt),
    cpuMs: (used.user + used.system) / 1000,
  };
  channel.finish('done', done);
});
