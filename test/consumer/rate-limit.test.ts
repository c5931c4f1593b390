import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { connect, definePipeline, InvalidOptionError, parsePipelineYaml, PipelineConfigError, runPipeline, type PipelineConfig, type Sluice } from '../../src/index.js';
import { pairs } from '../../src/stream/stream-info.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useSluice } from '../helpers/sluice-fixture.js';
import { commandCalls } from '../helpers/streams.js';
import { waitFor } from '../helpers/wait.js';
import { createMetrics, instrumentWorker } from '../../src/observe/metrics.js';
import { closePipelinesAfterEach, MemorySink, recordingLogger } from '../pipeline/helpers.js';
import { closeAfterEach } from './helpers.js';

const redis = useSluice();
const track = closeAfterEach();
const trackPipeline = closePipelinesAfterEach();

const MAX = 20;
const PER_MS = 500;
/**
 * Starts the measurements may show beyond the exact bound: handler starts are timed in Node, a
 * little after Redis granted their tokens, and that delay varies (one more start per 25 ms of
 * jitter at 20 per 500 ms). Ignoring the limit overshoots by far more: every event at once.
 */
const JITTER = 3;
/** The same, for durations (ms). */
const JITTER_MS = 75;

/**
 * Most starts in any window of `windowMs` that opens at one of the starts, looking only at the
 * windows that open at start `from` or later (to leave out the burst a full bucket allows).
 */
function busiestWindow(starts: readonly number[], windowMs: number, from = 0): number {
  let most = 0;
  let end = from;
  for (let i = from; i < starts.length; i++) {
    while (end < starts.length && (starts[end] as number) < (starts[i] as number) + windowMs) end++;
    most = Math.max(most, end - i);
  }
  return most;
}

function events(count: number): Array<{ n: string }> {
  return Array.from({ length: count }, (_, i) => ({ n: String(i) }));
}

async function groupState(sluice: Sluice, stream: string, group: string): Promise<{ pending: number; lag: number }> {
  const groups = (await sluice.connection.command<unknown[]>(['XINFO', 'GROUPS', stream])).map(pairs);
  const info = groups.find((g) => g.name === group);
  return { pending: Number(info?.pending), lag: Number(info?.lag) };
}

describe('rateLimit', () => {
  test('without rateLimit nothing changes: no limiter key, not one script call', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('rl')}orders`);
    await stream.publishMany(events(200));
    const before = (await commandCalls(redis.server, 'evalsha')) + (await commandCalls(redis.server, 'eval'));
    let handled = 0;
    const worker = track(stream.consume({ group: 'plain', startFrom: '0', block: 50 }, () => void handled++));
    await worker.idle();
    assert.equal(handled, 200);
    const after = (await commandCalls(redis.server, 'evalsha')) + (await commandCalls(redis.server, 'eval'));
    assert.equal(after, before, 'a worker without a rate limit runs no script to read and handle events');
    assert.deepEqual(await redis.sluice.connection.command(['KEYS', `{${stream.name}}:ratelimit:*`]), []);
  });

  test(`one worker, ${MAX} per ${PER_MS} ms over a backlog of 60: a burst of ${MAX}, then ${MAX} per ${PER_MS} ms; the bucket key expires`, async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('rl')}orders`);
    await stream.publishMany(events(60));
    const starts: number[] = [];
    // concurrency 64: reads may ask for the whole burst at once.
    const worker = track(
      stream.consume({ group: 'webhook', startFrom: '0', concurrency: 64, rateLimit: { max: MAX, per: `${PER_MS}ms` } }, () => void starts.push(performance.now())),
    );
    // Every wait for a token is reported, and counted by the metrics.
    let waitedMs = 0;
    worker.on('rate-limited', ({ waitMs }) => void (waitedMs += waitMs));
    const metrics = createMetrics();
    instrumentWorker(metrics, worker);
    await waitFor(() => starts.length === 60, { timeout: 15_000, message: () => `${starts.length} of 60 handled` });
    const took = (starts[59] as number) - (starts[0] as number);
    // A full bucket (MAX) first, then MAX per PER_MS: the 60th start cannot come before 1000 ms.
    const bound = ((60 - MAX) / MAX) * PER_MS;
    assert.ok(took >= bound - JITTER_MS, `60 starts took ${took.toFixed(0)} ms, the limit allows no less than ${bound} ms`);
    assert.ok(took < 4 * bound, `60 starts took ${took.toFixed(0)} ms: the worker waits far longer than the limit asks`);
    // Any window of PER_MS: at most MAX, plus at most MAX more in a window that holds the first burst.
    assert.ok(busiestWindow(starts, PER_MS) <= 2 * MAX + JITTER, `busiest window: ${busiestWindow(starts, PER_MS)}`);
    assert.ok(busiestWindow(starts, PER_MS, MAX) <= MAX + JITTER, `busiest window after the burst: ${busiestWindow(starts, PER_MS, MAX)}`);
    // After the first burst the worker waited for most of the time the other 40 took.
    assert.ok(waitedMs >= bound / 2, `rate-limited waits add up to ${waitedMs} ms`);
    const counted = /^sluice_worker_rate_limited_seconds_total\{stream="[^"]+",group="webhook"\} (\S+)$/m.exec(await metrics.registry.metrics());
    // Summed in seconds there, in ms here: equal but for rounding.
    assert.ok(Math.abs(Number(counted?.[1]) - waitedMs / 1000) < 1e-9, `counted ${counted?.[1]} s, waited ${waitedMs} ms`);

    const key = `{${stream.name}}:ratelimit:webhook`;
    const ttl: number = await waitFor(async () => {
      const ms = await redis.sluice.connection.command<number>(['PTTL', key]);
      return ms > 0 ? ms : 0;
    });
    assert.ok(ttl <= PER_MS + 1, `the bucket expires once it would be full again anyway (${ttl} ms)`);
    await worker.close();
    // An abandoned limiter leaves nothing behind.
    await waitFor(async () => (await redis.sluice.connection.command<number>(['EXISTS', key])) === 0, { timeout: 5000, message: 'the bucket key is gone' });
  });

  test('two workers on two connections share the limit of their group', async () => {
    const name = `${uniquePrefix('rl')}orders`;
    const other = await connect({ url: redis.server.url });
    try {
      const starts: number[] = [];
      const by = { a: 0, b: 0 };
      const options = { group: 'webhook', startFrom: '0', concurrency: 64, block: 200, rateLimit: { max: MAX, per: PER_MS } };
      const a = track(redis.sluice.stream(name).consume({ ...options, consumer: 'a' }, () => void (starts.push(performance.now()), by.a++)));
      const b = track(other.stream(name).consume({ ...options, consumer: 'b' }, () => void (starts.push(performance.now()), by.b++)));
      await Promise.all([a.ready, b.ready]);
      await redis.sluice.stream(name).publishMany(events(60));
      await waitFor(() => starts.length === 60, { timeout: 15_000, message: () => `${starts.length} of 60 handled` });
      // A worker waiting for new events holds one token (see the worker): the first burst is the
      // full bucket and one start per worker.
      const burst = MAX + 2;
      const took = (starts[59] as number) - (starts[0] as number);
      const bound = ((60 - burst) / MAX) * PER_MS;
      // With a limit of each worker's own, 60 would take about a quarter of this.
      assert.ok(took >= bound - JITTER_MS, `60 starts took ${took.toFixed(0)} ms, the shared limit allows no less than ${bound} ms`);
      assert.ok(busiestWindow(starts, PER_MS) <= MAX + burst + JITTER, `busiest window: ${busiestWindow(starts, PER_MS)}`);
      assert.ok(busiestWindow(starts, PER_MS, burst) <= MAX + JITTER, `busiest window after the burst: ${busiestWindow(starts, PER_MS, burst)}`);
      assert.ok(by.a > 0 && by.b > 0, `both workers handled events (${by.a} and ${by.b})`);
      await Promise.all([a.close(), b.close()]);
    } finally {
      await other.close();
    }
  });

  test('retries take tokens too: a failing event and the others share the budget', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('rl')}orders`);
    await stream.publishMany(events(10));
    const starts: number[] = [];
    let failures = 0;
    const worker = track(
      stream.consume({ group: 'webhook', startFrom: '0', backoff: 0, maxDeliveries: 100, rateLimit: { max: 5, per: PER_MS } }, (event) => {
        starts.push(performance.now());
        // Event 0 fails 10 times: 20 handler starts in all.
        if (event.fields.n === '0' && failures < 10) {
          failures++;
          throw new Error('downstream said 503');
        }
      }),
    );
    await waitFor(() => starts.length === 20, { timeout: 15_000, message: () => `${starts.length} of 20 starts` });
    const took = (starts[19] as number) - (starts[0] as number);
    const bound = ((20 - 5) / 5) * PER_MS;
    assert.ok(took >= bound - JITTER_MS, `20 starts (10 of them retries) took ${took.toFixed(0)} ms, the limit allows no less than ${bound} ms`);
    await worker.idle();
  });

  test('close() during a wait for tokens returns at once; entries not yet read are not pending meanwhile', async () => {
    const { logger, lines } = recordingLogger();
    const own = await connect({ url: redis.server.url, logger });
    try {
      const stream = own.stream(`${uniquePrefix('rl')}orders`);
      await stream.publishMany(events(3));
      let started = 0;
      const worker = track(stream.consume({ group: 'slow', startFrom: '0', rateLimit: { max: 1, per: '1m' } }, () => void started++));
      // The next token is a minute away.
      await waitFor(() => lines.some((line) => line.includes('rate limit reached')), { message: 'the worker logs that the limit holds it back' });
      const line = JSON.parse(lines.find((l) => l.includes('rate limit reached')) as string) as Record<string, unknown>;
      assert.equal(line.level, 20);
      assert.equal(line.group, 'slow');
      assert.ok(Number(line.waitMs) > 50_000, `waits for the next token (${String(line.waitMs)} ms)`);
      assert.equal(started, 1);
      // The other two were not read: they wait in the stream, not in the PEL (where they would
      // look idle and be reclaimed).
      assert.deepEqual(await groupState(own, stream.name, 'slow'), { pending: 0, lag: 2 });
      const ttl = await own.connection.command<number>(['PTTL', `{${stream.name}}:ratelimit:slow`]);
      assert.ok(ttl > 50_000 && ttl <= 60_001, `the bucket lives as long as a refill takes (${ttl} ms)`);
      const t0 = performance.now();
      await worker.close();
      const closeMs = performance.now() - t0;
      assert.ok(closeMs < 1000, `close() took ${closeMs.toFixed(0)} ms`);
      assert.equal(started, 1);
    } finally {
      await own.close();
    }
  });

  test('bad rate limits are refused when the worker is built', () => {
    const stream = redis.sluice.stream(`${uniquePrefix('rl')}orders`);
    assert.throws(() => stream.consume({ group: 'g', rateLimit: { max: 0, per: '1s' } }, () => undefined), (e: unknown) => e instanceof InvalidOptionError && e.option === 'rateLimit.max');
    assert.throws(() => stream.consume({ group: 'g', rateLimit: { max: 10, per: 'soon' } }, () => undefined), (e: unknown) => e instanceof InvalidOptionError && e.option === 'rateLimit.per');
  });
});

describe('rateLimit in pipelines', () => {
  const yaml = (rateLimit: string) => `name: to-partner
source:
  type: stream
  stream: events:orders
sinks:
  - type: stdout
consumer:
  maxDeliveries: 3
  rateLimit:
${rateLimit}
`;

  test('`consumer.rateLimit` is read from YAML and checked there, with the file, line and column', () => {
    const [pipeline] = parsePipelineYaml(yaml('    max: 50\n    per: 1s'), { file: 'p.yaml' }).pipelines;
    assert.deepEqual(pipeline?.plan.consumer.rateLimit, { max: 50, per: '1s' });
    const refused = (rateLimit: string, message: RegExp) =>
      assert.throws(
        () => parsePipelineYaml(yaml(rateLimit), { file: 'p.yaml' }),
        (e: unknown) => e instanceof PipelineConfigError && message.test(e.message),
      );
    refused('    max: 0\n    per: 1s', /^p\.yaml:10:5: consumer\.rateLimit\.max: expected a positive whole number .*got 0$/);
    refused('    max: 50\n    per: often', /^p\.yaml:11:5: consumer\.rateLimit\.per: expected a positive duration like 500ms, 1s or 1m.*got `often`$/);
    refused('    max: 50\n    pre: 1s', /^p\.yaml:11:5: consumer\.rateLimit\.pre: .*only `max` and `per`/);
  });

  test('a pipeline with `consumer.rateLimit` writes at the pace of the limit', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('rl')}orders`);
    await stream.publishMany(events(30));
    const sink = new MemorySink('partner');
    const config: PipelineConfig = {
      name: 'to-partner',
      source: { type: 'stream', stream: stream.name },
      sinks: [sink],
      batch: { size: 5, linger: '10ms' },
      consumer: { block: 100, rateLimit: { max: 10, per: PER_MS } },
    };
    const t0 = performance.now();
    const running = trackPipeline(await runPipeline(definePipeline(config), { sluice: redis.sluice, logger: recordingLogger().logger }));
    await waitFor(() => sink.stored.size === 30, { timeout: 15_000, message: () => `${sink.stored.size} of 30 stored` });
    const took = performance.now() - t0;
    const bound = ((30 - 10) / 10) * PER_MS;
    assert.ok(took >= bound - JITTER_MS, `30 events through a limit of 10 per ${PER_MS} ms took ${took.toFixed(0)} ms, no less than ${bound} ms allowed`);
    await running.idle();
  });
});

