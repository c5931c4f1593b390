import { connect } from '../../src/index.js';
import type { RedisConnection } from '../../src/redis/connection.js';
import { BULLMQ_PRODUCER_METHOD, BULLMQ_WORKER_METHOD, expectBullmqDone } from '../baselines/bullmq.js';
import { NODE_REDIS_WORKER_METHOD } from '../baselines/node-redis-group-worker.js';
import { NODE_REDIS_BATCH, NODE_REDIS_IN_FLIGHT } from '../baselines/node-redis-xadd-pipeline.js';
import { expectDrained } from '../lib/backlog.js';
import { BenchChild, withChildren } from '../lib/bench-child.js';
import { within } from '../lib/deadline.js';
import { redisCpuMs } from '../lib/redis-cpu.js';
import type { BenchContext, Measurement, Scenario, ScenarioResult } from '../lib/scenario.js';
import { target } from '../lib/scenario.js';
import { median, rate, type Sample } from '../lib/stats.js';
import type { RoundOptions } from '../processes/round-options.js';
import type { E2eWorkerDone } from '../processes/e2e-worker.js';
import { GROUP, SLUICE_CONSUME_OPTIONS } from './consume.js';
import { SLUICE_CALLERS } from './publish.js';

/**
 * BullMQ handles a few thousand jobs a second here, against hundreds of thousands of events for the
 * other two: its rounds are this fraction of `--events` (at most `BULLMQ_MAX_EVENTS`), so that a
 * round takes seconds. Rates are compared, not durations.
 */
const BULLMQ_SHARE = 0.1;
const BULLMQ_MAX_EVENTS = 20_000;

/**
 * Untimed events each pair of processes passes first (producer → worker), as the other scenarios'
 * warm-up rounds: a fresh process runs its first tens of thousands of events unoptimized.
 */
const WARMUP_EVENTS = 20_000;
const BULLMQ_WARMUP_EVENTS = 2_000;

type Method = 'sluice' | 'node-redis' | 'bullmq';

interface RoundResult {
  eventsPerSecond: number;
  producerCpuUs: number;
  workerCpuUs: number;
  redisCpuUs: number;
}

/**
 * One round: a producer process and a worker process, both warmed up (the producer fills a
 * warm-up stream or queue, the worker drains it), the worker then waiting on the empty round
 * stream; on `go` the producer publishes `events`. Timed from the producer's first publish to the
 * moment the worker knows the last event acknowledged; both processes report epoch times (one
 * clock on one machine). redis-server's CPU is read around it.
 */
async function e2eRound(ctx: BenchContext, conn: RedisConnection, method: Method, key: string, events: number): Promise<RoundResult> {
  const producerScript = new URL('../processes/producer.js', import.meta.url);
  const workerScript = new URL('../processes/e2e-worker.js', import.meta.url);
  const warmupKey = method === 'bullmq' ? `${key}-warmup` : `${key}:warmup`;
  const warmupEvents = method === 'bullmq' ? BULLMQ_WARMUP_EVENTS : Math.min(WARMUP_EVENTS, events);
  const options = { method, url: ctx.url, key, events, warmupKey, warmupEvents } satisfies RoundOptions;
  const producer = new BenchChild(`${method} producer`, producerScript, options);
  const children = [producer];
  return withChildren(children, async () => {
    // The producer fills the warm-up, then the worker drains it: both are warm at `go`.
    await within(producer.line('ready'), 60_000, `the ${method} producer's start and warm-up`);
    const worker = new BenchChild(`${method} worker`, workerScript, options);
    children.push(worker);
    await within(worker.line('ready'), 60_000, `the ${method} worker's start and warm-up`);
    const redisCpuBefore = await redisCpuMs(conn);
    worker.send('go');
    producer.send('go');
    const [sent, received] = await within(
      Promise.all([producer.json<Sample>('done '), worker.json<E2eWorkerDone>('done ')]),
      // Generous: a stalled round fails the run instead of hanging it.
      60_000 + events,
      `the ${method} round of ${events} events`,
    );
    const redisCpu = (await redisCpuMs(conn)) - redisCpuBefore;
    await Promise.all([producer.finished(), worker.finished()]);
    if (received.handled !== events) throw new Error(`${method}: the worker handled ${received.handled} events, expected ${events}`);
    const ms = received.endedAt - (sent.startedAt as number);
    return {
      eventsPerSecond: rate(events, ms),
      producerCpuUs: ((sent.cpuMs as number) * 1000) / events,
      workerCpuUs: (received.cpuMs * 1000) / events,
      redisCpuUs: (redisCpu * 1000) / events,
    };
  });
}

export const endToEndScenario: Scenario = {
  name: 'end-to-end',
  description:
    'a producer process and a worker process (at-least-once, retries and dead letters on): Sluice vs node-redis loops vs BullMQ, from the first publish to the last ack',
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const sluice = await connect({ url: ctx.url });
    const conn = sluice.connection;
    const bullmqEvents = Math.max(1000, Math.min(BULLMQ_MAX_EVENTS, Math.round(ctx.events * BULLMQ_SHARE)));
    const methods: Array<{ name: Method; role: Measurement['role']; method: string; events: number; results: RoundResult[] }> = [
      {
        name: 'sluice',
        role: 'subject',
        method:
          `producer: ${SLUICE_CALLERS} concurrent callers looping \`await stream.publish(order)\`; ` +
          `worker: stream.consume({ group, concurrency: ${SLUICE_CONSUME_OPTIONS.concurrency}, batchSize: ${SLUICE_CONSUME_OPTIONS.batchSize} }, () => {}) (maxDeliveries 5, dead letters, other options default)`,
        events: ctx.events,
        results: [],
      },
      {
        name: 'node-redis',
        role: 'baseline',
        method: `producer: node-redis multi() + ${NODE_REDIS_BATCH} xAdd + execAsPipeline(), ${NODE_REDIS_IN_FLIGHT} in flight; worker: ${NODE_REDIS_WORKER_METHOD}`,
        events: ctx.events,
        results: [],
      },
      { name: 'bullmq', role: 'baseline', method: `producer: ${BULLMQ_PRODUCER_METHOD}; worker: ${BULLMQ_WORKER_METHOD}`, events: bullmqEvents, results: [] },
    ];
    try {
      // Rounds alternate between the methods, so a slow phase of the machine hits all of them.
      for (let round = 1; round <= ctx.rounds; round++) {
        for (const m of methods) {
          // BullMQ refuses `:` in queue names (it is its key separator).
          const key = m.name === 'bullmq' ? `bench-e2e-bullmq-${round}` : `bench:e2e:${m.name}:${round}`;
          if (m.name !== 'bullmq') {
            for (const k of [key, `${key}:warmup`]) await conn.command(['XGROUP', 'CREATE', k, GROUP, '0', 'MKSTREAM']);
          }
          const result = await e2eRound(ctx, conn, m.name, key, m.events);
          if (m.name === 'bullmq') {
            await expectBullmqDone(ctx.url, key, m.events);
            await expectBullmqDone(ctx.url, `${key}-warmup`, BULLMQ_WARMUP_EVENTS);
          } else {
            await conn.command(['DEL', `${key}:warmup`]);
            const length = Number(await conn.command(['XLEN', key]));
            if (length !== m.events) throw new Error(`${m.name}: the stream ${key} holds ${length} entries after ${m.events} publishes`);
            await expectDrained(conn, key, GROUP, m.events, m.name);
            await conn.command(['DEL', key]);
          }
          m.results.push(result);
          ctx.log(`end-to-end round ${round}/${ctx.rounds} ${m.name}: ${Math.round(result.eventsPerSecond)} events/s (${m.events} events)`);
        }
      }
    } finally {
      await sluice.close();
    }
    const measurements: Measurement[] = methods.map((m) => {
      const producerCpu = median(m.results.map((r) => r.producerCpuUs));
      const workerCpu = median(m.results.map((r) => r.workerCpuUs));
      return {
        name: m.name,
        role: m.role,
        method: m.method,
        unit: 'events/s',
        rounds: m.results.map((r) => r.eventsPerSecond),
        median: median(m.results.map((r) => r.eventsPerSecond)),
        cpuUsPerEvent: median(m.results.map((r) => r.producerCpuUs + r.workerCpuUs)),
        figures: {
          'events per round': m.events,
          'producer CPU µs/event': producerCpu,
          'worker CPU µs/event': workerCpu,
          'redis-server CPU µs/event': median(m.results.map((r) => r.redisCpuUs)),
        },
      };
    });
    const [subject, nodeRedis, bullmq] = measurements as [Measurement, Measurement, Measurement];
    const paired = (other: Measurement) => median(subject.rounds.map((r, i) => r / (other.rounds[i] as number)));
    const ratios = {
      'sluice/node-redis': subject.median / nodeRedis.median,
      'sluice/node-redis, median of per-round ratios': paired(nodeRedis),
      'sluice/bullmq': subject.median / bullmq.median,
      'sluice/bullmq, median of per-round ratios': paired(bullmq),
      // Lower is better: Sluice's CPU (producer + worker) per event as a fraction of the other's.
      'sluice/node-redis Node CPU per event': (subject.cpuUsPerEvent as number) / (nodeRedis.cpuUsPerEvent as number),
      'sluice/bullmq Node CPU per event': (subject.cpuUsPerEvent as number) / (bullmq.cpuUsPerEvent as number),
    };
    return {
      scenario: 'end-to-end',
      events: ctx.events,
      measurements,
      ratios,
      targets: [target('sluice/node-redis', ratios['sluice/node-redis'], '≥', 1.5), target('sluice/bullmq', ratios['sluice/bullmq'], '≥', 15)],
      checks: [
        `after every sluice and node-redis round the stream held exactly the events published (XLEN) and the group had read them all, lag 0, nothing pending; ` +
          `after every BullMQ round all ${bullmqEvents} jobs were completed and none waiting, active, delayed or failed; every worker counted each event once`,
      ],
      notes: [
        `BullMQ rounds are ${bullmqEvents} events (sluice and node-redis: ${ctx.events}): BullMQ is far slower, so its run is sized to take seconds, not minutes. Rates are compared, not durations.`,
        `each round starts a fresh producer process and a fresh worker process; before the timing the producer publishes ${WARMUP_EVENTS} events (BullMQ: ${BULLMQ_WARMUP_EVENTS} jobs) to another stream and the worker drains them, untimed, so both are warm; Node CPU µs/event is producer + worker, split in the figures`,
      ],
    };
  },
};
