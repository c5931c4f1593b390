import { connect, type Sluice } from '../../src/index.js';
import { NODE_REDIS_LOOP_METHOD, nodeRedisXreadgroupLoop } from '../baselines/node-redis-xreadgroup-loop.js';
import { findRedisBenchmark } from '../baselines/redis-benchmark.js';
import { expectDrained, fillBacklog } from '../lib/backlog.js';
import { target, type BenchContext, type Measurement, type Scenario, type ScenarioResult } from '../lib/scenario.js';
import { measure, median, rate, type Sample } from '../lib/stats.js';

export const GROUP = 'bench';

/**
 * The worker options a user would pick for throughput: up to 1000 entries in flight, read 1000 at
 * a time (the baseline's COUNT). Everything else is the default (ordering none, block 2000 ms…).
 */
export const SLUICE_CONSUME_OPTIONS = { group: GROUP, consumer: 'sluice', concurrency: 1000, batchSize: 1000 } as const;

export const SLUICE_CONSUME_METHOD =
  "stream.consume({ group, concurrency: 1000, batchSize: 1000 }, () => {}) (no-op handler, other options default), timed from consume() until worker.idle()";

/** Untimed first round of each method, so the JIT has warmed up before measuring. */
const WARMUP_EVENTS = 20_000;

/**
 * A worker drains the group with a no-op handler. Timed from `consume()` (its fetch connection's
 * connect included) until `idle()`: everything read, handled and acknowledged (XINFO GROUPS
 * pending 0 and lag 0). Closing is not timed.
 */
export async function sluiceDrain(sluice: Sluice, key: string): Promise<Sample> {
  const stream = sluice.stream(key);
  let worker: ReturnType<typeof stream.consume> | undefined;
  try {
    return await measure(async () => {
      worker = stream.consume(SLUICE_CONSUME_OPTIONS, () => {});
      await worker.idle();
    });
  } finally {
    await worker?.close();
  }
}

export const consumeScenario: Scenario = {
  name: 'consume',
  description: 'drain a backlog of N order events through a group, ack included: Sluice worker vs a hand-written node-redis XREADGROUP/XACK loop',
  async check() {
    await findRedisBenchmark();
  },
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const benchmark = await findRedisBenchmark();
    const sluice = await connect({ url: ctx.url });
    const conn = sluice.connection;
    try {
      type Method = Omit<Measurement, 'median' | 'cpuUsPerEvent'> & { cpuUs: number[]; once(key: string, events: number): Promise<Sample> };
      const methods: Method[] = [
        {
          name: 'sluice',
          role: 'subject',
          method: SLUICE_CONSUME_METHOD,
          unit: 'events/s',
          rounds: [],
          cpuUs: [],
          once: (key) => sluiceDrain(sluice, key),
        },
        {
          name: 'baseline',
          role: 'baseline',
          method: NODE_REDIS_LOOP_METHOD,
          unit: 'events/s',
          rounds: [],
          cpuUs: [],
          once: async (key, events) => {
            const sample = await nodeRedisXreadgroupLoop({ url: ctx.url, key, group: GROUP, consumer: 'baseline' });
            if (sample.entries !== events) throw new Error(`baseline: read ${sample.entries} entries from ${key}, expected ${events}`);
            return sample;
          },
        },
      ];
      const round = async (m: Method, key: string, events: number) => {
        await fillBacklog({ conn, benchmark, port: ctx.port, key, group: GROUP, events });
        const sample = await m.once(key, events);
        await expectDrained(conn, key, GROUP, events, m.name);
        await conn.command(['DEL', key]);
        return sample;
      };
      const warmup = Math.min(WARMUP_EVENTS, ctx.events);
      for (const m of methods) await round(m, `bench:consume:${m.name}:warmup`, warmup);
      // Rounds alternate between the methods, so a slow phase of the machine hits both.
      for (let r = 1; r <= ctx.rounds; r++) {
        for (const m of methods) {
          const sample = await round(m, `bench:consume:${m.name}:${r}`, ctx.events);
          m.rounds.push(rate(ctx.events, sample.ms));
          if (sample.cpuMs !== undefined) m.cpuUs.push((sample.cpuMs * 1000) / ctx.events);
          ctx.log(`consume round ${r}/${ctx.rounds} ${m.name}: ${Math.round(rate(ctx.events, sample.ms))} events/s`);
        }
      }
      const measurements: Measurement[] = methods.map(({ once: _once, cpuUs, ...m }) => ({ ...m, median: median(m.rounds), cpuUsPerEvent: median(cpuUs) }));
      const [subject, baseline] = measurements as [Measurement, Measurement];
      return {
        scenario: 'consume',
        events: ctx.events,
        measurements,
        targets: [target('sluice/baseline', subject.median / baseline.median, '≥', 2)],
        ratios: {
          'sluice/baseline': subject.median / baseline.median,
          // Each round runs both back to back: their ratio is steadier when the machine's load varies.
          'sluice/baseline, median of per-round ratios': median(subject.rounds.map((r, i) => r / (baseline.rounds[i] as number))),
          // Lower is better: Sluice's CPU per event as a fraction of the hand-written loop's.
          'sluice/baseline Node CPU per event': (subject.cpuUsPerEvent as number) / (baseline.cpuUsPerEvent as number),
        },
        checks: [
          `after every round the group had read all ${ctx.events} entries (XINFO GROUPS entries-read), with lag 0 and nothing pending (XPENDING 0); the baseline read each entry once`,
        ],
      };
    } finally {
      await sluice.close();
    }
  },
};
