import { connect } from '../../src/index.js';
import { BenchChild, withChildren } from '../lib/bench-child.js';
import { sleep, within } from '../lib/deadline.js';
import { startPrivateRedis, type PrivateRedis } from '../lib/private-redis.js';
import { MiB, rssOf, RssSampler, type RssReading } from '../lib/rss.js';
import type { BenchContext, Measurement, Scenario, ScenarioResult } from '../lib/scenario.js';
import type { OutageProducerDone, OutageProducerOptions } from '../processes/outage-producer.js';

/** Publishes per second, issued without waiting for the previous ones. */
const RATE = 10_000;
const BEFORE_MS = 5_000;
const AFTER_MS = 10_000;
const SAMPLE_EVERY_MS = 250;

type Method = OutageProducerOptions['method'];

const max = (values: number[]) => (values.length ? Math.max(...values) : NaN);

interface OutageRun {
  startBytes: number;
  readings: RssReading[];
  done: OutageProducerDone;
}

/**
 * One producer process publishing at `RATE`: `BEFORE_MS` with Redis up, `outageMs` with the
 * server killed, `AFTER_MS` after it is restarted (empty, on the same port). Its RSS is read
 * from outside every `SAMPLE_EVERY_MS`.
 */
async function outageRun(redis: PrivateRedis, method: Method, key: string, outageMs: number): Promise<OutageRun> {
  const child = new BenchChild(`${method} producer`, new URL('../processes/outage-producer.js', import.meta.url), {
    method,
    url: redis.url,
    key,
    rate: RATE,
    settleTimeoutMs: 30_000,
  } satisfies OutageProducerOptions);
  return withChildren([child], async () => {
    await within(child.line('ready'), 30_000, `the ${method} producer's start`);
    const startBytes = await rssOf(child.pid);
    const sampler = new RssSampler(child.pid, SAMPLE_EVERY_MS);
    try {
      sampler.phase = 'before';
      child.send('go');
      await sleep(BEFORE_MS);
      sampler.phase = 'outage';
      child.send('phase outage');
      await redis.kill();
      await sleep(outageMs);
      await redis.restart();
      sampler.phase = 'after';
      child.send('phase after');
      await sleep(AFTER_MS);
      sampler.phase = 'stopping';
      child.send('stop');
      const done = await within(child.json<OutageProducerDone>('done '), 60_000, `the ${method} producer after stop`);
      await child.finished();
      return { startBytes, readings: sampler.readings, done };
    } finally {
      sampler.stop();
    }
  });
}

export const producerRedisDownScenario: Scenario = {
  name: 'producer-redis-down',
  description: `producer RSS while redis-server is killed and restarted, publishing ${RATE.toLocaleString('en-US')} events/s open loop: Sluice (onFull block, reject) vs node-redis`,
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    // Its own server: this scenario kills it, and the runner's must stay up for the others.
    const redis = await startPrivateRedis();
    const outageMs = ctx.outageS * 1000;
    const methods: Array<{ name: Method; role: Measurement['role']; method: string }> = [
      {
        name: 'sluice',
        role: 'subject',
        method: '`stream.publish(order)` per event, not awaited; default publisher (maxBuffered 50,000, onFull block, maxWaiting 50,000) and commandTimeout (10 s)',
      },
      {
        name: 'sluice-reject',
        role: 'subject',
        method: "the same with publisher: { onFull: 'reject' } (BackpressureError at once when 50,000 are buffered)",
      },
      { name: 'node-redis', role: 'baseline', method: 'node-redis client.xAdd() per event, not awaited; plain createClient({ url }) (offline queue on, no command timeout: its defaults)' },
    ];
    const measurements: Measurement[] = [];
    const checks: string[] = [];
    const messages: string[] = [];
    try {
      for (const m of methods) {
        const key = `bench:outage:${m.name}`;
        ctx.log(`producer-redis-down ${m.name}: ${BEFORE_MS / 1000} s up, ${ctx.outageS} s down, ${AFTER_MS / 1000} s up again`);
        const run = await outageRun(redis, m.name, key, outageMs);
        const sluice = await connect({ url: redis.url });
        try {
          const length = Number(await sluice.connection.command(['XLEN', key]));
          const after = run.done.phases.after;
          if (!after?.outcomes.ok?.count || length === 0) {
            throw new Error(`${m.name}: publishing did not resume after the restart (${JSON.stringify(after)}, XLEN ${length})`);
          }
          await sluice.connection.command(['DEL', key]);
        } finally {
          await sluice.close();
        }
        const inPhase = (phase: string) => run.readings.filter((r) => r.phase === phase);
        const outage = inPhase('outage');
        const outageStart = outage[0]?.at ?? 0;
        const mib = (bytes: number) => bytes / MiB;
        const figures: Record<string, number> = { 'RSS before max MiB': mib(max(inPhase('before').map((r) => r.bytes))) };
        // The outage's course, peak by quarter: bounded means the later quarters stop climbing.
        // Peaks, not single readings: RSS saws up and down with the garbage collector.
        for (let q = 0; q < 4; q++) {
          const from = outageStart + (outageMs * q) / 4;
          const to = outageStart + (outageMs * (q + 1)) / 4;
          const label = `${((outageMs * q) / 4000).toFixed(0)}–${((outageMs * (q + 1)) / 4000).toFixed(0)} s`;
          figures[`RSS peak outage ${label} MiB`] = mib(max(outage.filter((r) => r.at >= from && r.at < to).map((r) => r.bytes)));
        }
        figures['RSS after max MiB'] = mib(max(inPhase('after').map((r) => r.bytes)));
        for (const [phase, p] of Object.entries(run.done.phases)) {
          figures[`${phase}: calls`] = p.calls;
          figures[`${phase}: most outstanding`] = p.maxOutstanding;
          figures[`${phase}: max heap used MiB`] = mib(p.maxHeapUsedBytes);
          for (const [outcome, o] of Object.entries(p.outcomes)) {
            figures[`${phase}: ${outcome}`] = o.count;
            figures[`${phase}: ${outcome} max ms`] = o.maxMs;
          }
        }
        if (run.done.unsettled > 0) figures['unsettled 30 s after stop'] = run.done.unsettled;
        const outageMax = mib(max(outage.map((r) => r.bytes)));
        measurements.push({
          ...m,
          unit: 'max RSS MiB',
          rounds: [outageMax],
          median: outageMax,
          rss: { startMiB: mib(run.startBytes), maxMiB: mib(max(run.readings.map((r) => r.bytes))), everyMs: SAMPLE_EVERY_MS, samples: run.readings.length },
          figures,
        });
        for (const [code, message] of Object.entries(run.done.messages)) messages.push(`${m.name} ${code}: ${message}`);
        ctx.log(`producer-redis-down ${m.name}: RSS ${(figures['RSS before max MiB'] as number).toFixed(1)} MiB before, max ${outageMax.toFixed(1)} MiB during the outage`);
      }
      checks.push('for every method, publishes succeeded again after the restart and the new server held the stream');
    } finally {
      await redis.stop();
    }
    const byName = (name: string) => measurements.find((x) => x.name === name) as Measurement;
    const growth = (x: Measurement) => x.median - (x.figures?.['RSS before max MiB'] as number);
    return {
      scenario: 'producer-redis-down',
      events: Math.round((RATE * (BEFORE_MS + outageMs + AFTER_MS)) / 1000),
      measurements,
      ratios: {
        'sluice/node-redis max RSS during the outage': byName('sluice').median / byName('node-redis').median,
        'sluice/node-redis RSS growth during the outage': growth(byName('sluice')) / growth(byName('node-redis')),
        'sluice-reject/node-redis RSS growth during the outage': growth(byName('sluice-reject')) / growth(byName('node-redis')),
      },
      checks,
      notes: [
        `the producer calls publish ${RATE.toLocaleString('en-US')} times a second whatever happens (an open loop, like a service taking events from its own clients), tagging each call with the phase it was made in: before, outage, after (the restart)`,
        'redis-server is SIGKILLed and restarted empty on the same port (no persistence in the benchmark); RSS read from /proc every 250 ms from outside the producer',
        'outcomes: `ok` resolved, otherwise the error code (ERR_TIMEOUT, ERR_NOT_CONNECTED, ERR_BACKPRESSURE…) with the longest a call waited for it; the first message of each:',
        ...messages,
      ],
    };
  },
};
