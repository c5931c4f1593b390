import { connect, type Sluice } from '../../src/index.js';
import { NODE_REDIS_BATCH, NODE_REDIS_IN_FLIGHT } from '../baselines/node-redis-xadd-pipeline.js';
import { findRedisBenchmark, redisBenchmark, redisBenchmarkArgs } from '../baselines/redis-benchmark.js';
import { target, type BenchContext, type Measurement, type Scenario, type ScenarioResult } from '../lib/scenario.js';
import { BenchChild } from '../lib/bench-child.js';
import { within } from '../lib/deadline.js';
import { measure, median, rate, type Sample } from '../lib/stats.js';
import type { RoundOptions } from '../processes/round-options.js';

/** The guide's order event, as redis-cli writes it. */
const ORDER_COMMAND = ['order_id', '12345', 'customer_id', '67890', 'amount', '99.99', 'status', 'pending'];

/**
 * Publishes outstanding at once: as many as the baseline's 4 batches of 1000 in flight, so both
 * sides offer Redis the same amount of pipelining.
 */
export const SLUICE_CALLERS = NODE_REDIS_BATCH * NODE_REDIS_IN_FLIGHT;

/** Untimed first publishes of each producer process, so the JIT has warmed up before measuring. */
const WARMUP_EVENTS = 20_000;

/**
 * A client method's producer process (bench/processes/producer.ts), alive for all its rounds as
 * an application would be: it warms up, then on each `round(key)` publishes `events` into `key`
 * and reports its time and CPU. A process per method: in one shared process each client ran in a
 * heap shaped by the other (node-redis's loop in a young generation Sluice's rounds had grown,
 * Sluice among what node-redis's rounds had promoted), which no application sees.
 */
async function startProducer(ctx: BenchContext, method: 'sluice' | 'node-redis', rounds: number): Promise<{ round(key: string): Promise<Sample>; finished(): Promise<void>; stop(): void }> {
  const warmupKey = `bench:publish:${method}:warmup`;
  const events = ctx.events;
  const options = { method, url: ctx.url, key: warmupKey, events, warmupKey, warmupEvents: Math.min(WARMUP_EVENTS, events), rounds } satisfies RoundOptions;
  const producer = new BenchChild(`${method} producer`, new URL('../processes/producer.js', import.meta.url), options);
  try {
    await within(producer.line('ready'), 60_000, `the ${method} producer's start and warm-up`);
  } catch (error) {
    producer.kill();
    throw error;
  }
  return {
    async round(key) {
      producer.send(`go ${JSON.stringify({ key })}`);
      return within(producer.json<Sample>('done '), 120_000, `the ${method} producer`);
    },
    /** After its last round: a clean exit (it closes its connections first). */
    finished: () => within(producer.finished(), 30_000, `the ${method} producer's exit`),
    stop: () => producer.kill(),
  };
}

/**
 * `SLUICE_CALLERS` concurrent callers; each one loops `await stream.publish(order)` with a fresh
 * order object until `events` publishes have been started in all. Nothing else: no batching in
 * the caller, no `publishMany`. Timed from the first publish to the last one resolved.
 */
export async function sluicePublish(sluice: Sluice, key: string, events: number): Promise<Sample> {
  const stream = sluice.stream(key);
  let started = 0;
  const caller = async () => {
    while (started < events) {
      started++;
      await stream.publish({ order_id: '12345', customer_id: '67890', amount: '99.99', status: 'pending' });
    }
  };
  return measure(async () => {
    await Promise.all(Array.from({ length: Math.min(SLUICE_CALLERS, events) }, caller));
  });
}

export const publishScenario: Scenario = {
  name: 'publish',
  description: 'N order events into a fresh stream: Sluice auto-batching vs a hand-written node-redis pipeline vs redis-benchmark',
  async check() {
    await findRedisBenchmark();
  },
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const benchmarkBinary = await findRedisBenchmark();
    const sluice = await connect({ url: ctx.url });
    const checks: string[] = [];
    /** XLEN after a round (then the stream is deleted, outside the timing). */
    const expectLength = async (key: string, events: number, who: string, atLeast = false) => {
      const length = Number(await sluice.connection.command<number>(['XLEN', key]));
      if (atLeast ? length < events : length !== events) {
        throw new Error(`${who}: the stream ${key} holds ${length} entries after ${events} publishes`);
      }
      await sluice.connection.command(['DEL', key]);
    };
    const producers: Array<{ stop(): void }> = [];
    try {
      const sluiceProducer = await startProducer(ctx, 'sluice', ctx.rounds);
      producers.push(sluiceProducer);
      const baselineProducer = await startProducer(ctx, 'node-redis', ctx.rounds);
      producers.push(baselineProducer);
      for (const method of ['sluice', 'node-redis']) await expectLength(`bench:publish:${method}:warmup`, Math.min(WARMUP_EVENTS, ctx.events), `${method} warm-up`);
      type Method = Omit<Measurement, 'median' | 'cpuUsPerEvent'> & { cpuUs: number[]; once(key: string, events: number): Promise<Sample> };
      const methods: Method[] = [
        {
          name: 'sluice',
          role: 'subject',
          method: `${SLUICE_CALLERS} concurrent callers, each looping \`await stream.publish(order)\` (default publisher options)`,
          unit: 'events/s',
          rounds: [],
          cpuUs: [],
          once: (key) => sluiceProducer.round(key),
        },
        {
          name: 'baseline',
          role: 'baseline',
          method: `node-redis: client.multi() + ${NODE_REDIS_BATCH} xAdd + execAsPipeline(), ${NODE_REDIS_IN_FLIGHT} batches in flight`,
          unit: 'events/s',
          rounds: [],
          cpuUs: [],
          once: (key) => baselineProducer.round(key),
        },
        {
          name: 'ceiling',
          role: 'ceiling',
          method: `redis-benchmark ${redisBenchmarkArgs({ port: ctx.port, events: ctx.events, command: ['XADD', '<key>', "'*'", ...ORDER_COMMAND] }).join(' ')}`,
          unit: 'events/s',
          rounds: [],
          cpuUs: [],
          // redis-benchmark reports its own rate: turned back into a duration for the loop below.
          once: async (key, events) => {
            const rps = await redisBenchmark({ binary: benchmarkBinary, port: ctx.port, events, command: ['XADD', key, '*', ...ORDER_COMMAND] });
            return { ms: (events * 1000) / rps };
          },
        },
      ];
      // Rounds alternate between the methods, so a slow phase of the machine hits all of them.
      for (let round = 1; round <= ctx.rounds; round++) {
        for (const m of methods) {
          const key = `bench:publish:${m.name}:${round}`;
          const sample = await m.once(key, ctx.events);
          // redis-benchmark rounds the count up to whole pipelines per connection: it may add a few.
          await expectLength(key, ctx.events, m.name, m.role === 'ceiling');
          m.rounds.push(rate(ctx.events, sample.ms));
          if (sample.cpuMs !== undefined) m.cpuUs.push((sample.cpuMs * 1000) / ctx.events);
          ctx.log(`publish round ${round}/${ctx.rounds} ${m.name}: ${Math.round(rate(ctx.events, sample.ms))} events/s`);
        }
      }
      await Promise.all([sluiceProducer.finished(), baselineProducer.finished()]);
      checks.push(`after every Sluice and baseline round the stream held exactly ${ctx.events} entries (XLEN); after redis-benchmark at least that many`);
      const measurements: Measurement[] = methods.map(({ once: _once, cpuUs, ...m }) => ({
        ...m,
        median: median(m.rounds),
        ...(cpuUs.length ? { cpuUsPerEvent: median(cpuUs) } : {}),
      }));
      const [subject, baseline, ceiling] = measurements as [Measurement, Measurement, Measurement];
      return {
        scenario: 'publish',
        events: ctx.events,
        measurements,
        targets: [target('sluice/baseline', subject.median / baseline.median, '≥', 2)],
        ratios: {
          'sluice/baseline': subject.median / baseline.median,
          // Each round runs both back to back: their ratio is steadier when the machine's load varies.
          'sluice/baseline, median of per-round ratios': median(subject.rounds.map((r, i) => r / (baseline.rounds[i] as number))),
          'sluice/ceiling': subject.median / ceiling.median,
          // Lower is better: Sluice's CPU per event as a fraction of the hand-written loop's.
          'sluice/baseline Node CPU per event': (subject.cpuUsPerEvent as number) / (baseline.cpuUsPerEvent as number),
        },
        checks,
      };
    } finally {
      for (const producer of producers) producer.stop();
      await sluice.close();
    }
  },
};
