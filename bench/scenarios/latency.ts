import { connect } from '../../src/index.js';
import { NODE_REDIS_WORKER_METHOD } from '../baselines/node-redis-group-worker.js';
import { RAW_WORKER_METHOD } from '../baselines/raw-redis.js';
import { expectDrained } from '../lib/backlog.js';
import { BenchChild, withChildren } from '../lib/bench-child.js';
import { within } from '../lib/deadline.js';
import { watchHostCpu } from '../lib/host-cpu.js';
import type { BenchContext, Measurement, Scenario, ScenarioResult } from '../lib/scenario.js';
import { target } from '../lib/scenario.js';
import { epochMs, median, percentile } from '../lib/stats.js';
import type { LatencyMethod, LatencyProducerDone, LatencyProducerOptions } from '../processes/latency-producer.js';
import type { LatencyWorkerDone, LatencyWorkerOptions } from '../processes/latency-worker.js';
import { GROUP } from './consume.js';

/** The steady load. */
const RATE = 5_000;
/** Published before the measured window of each round: connections, JIT, first batches. */
const WARMUP_MS = 2_000;
/**
 * Each method's measured time is split in this many rounds, alternating with the other methods:
 * the hypervisor steals CPU in bursts, and short alternating rounds spread them over the methods.
 */
const ROUNDS = 4;

interface RoundResult {
  latenciesUs: number[];
  producer: LatencyProducerDone;
  /** CPU of each process per event, µs (warm-up included). */
  producerCpuUs: number;
  workerCpuUs: number;
}

/** One round: a worker process on an empty stream, then a producer process at `RATE` events/s. */
async function latencyRound(ctx: BenchContext, method: LatencyMethod, key: string, measuredMs: number): Promise<RoundResult> {
  const total = Math.round((RATE * (WARMUP_MS + measuredMs)) / 1000);
  const measureFromIndex = Math.round((RATE * WARMUP_MS) / 1000);
  const worker = new BenchChild(`${method} latency worker`, new URL('../processes/latency-worker.js', import.meta.url), {
    method,
    url: ctx.url,
    key,
  } satisfies LatencyWorkerOptions);
  const producer = new BenchChild(`${method} latency producer`, new URL('../processes/latency-producer.js', import.meta.url), {
    method,
    url: ctx.url,
    key,
    rate: RATE,
    total,
    measureFromIndex,
  } satisfies LatencyProducerOptions);
  return withChildren([worker, producer], async () => {
    await within(Promise.all([worker.line('ready'), producer.line('ready')]), 30_000, `the ${method} processes' start`);
    const startAt = epochMs() + 200;
    // Events of the warm-up are not measured: their slots end at startAt + WARMUP_MS.
    worker.send(`go ${JSON.stringify({ from: startAt + WARMUP_MS, to: startAt + WARMUP_MS + measuredMs + 60_000 })}`);
    producer.send(`go ${JSON.stringify({ startAt })}`);
    const sent = await within(producer.json<LatencyProducerDone>('done '), WARMUP_MS + measuredMs + 60_000, `the ${method} latency producer`);
    if (sent.errors > 0) throw new Error(`${method}: ${sent.errors} of ${total} publishes failed, the first with ${sent.firstError}`);
    worker.send(`expect ${JSON.stringify({ events: total })}`);
    const received = await within(worker.json<LatencyWorkerDone>('done '), 60_000, `the ${method} latency worker`);
    await Promise.all([producer.finished(), worker.finished()]);
    if (received.handled !== total) throw new Error(`${method}: the worker handled ${received.handled} events, expected ${total}`);
    return {
      latenciesUs: received.latenciesUs,
      producer: sent,
      producerCpuUs: (sent.cpuMs * 1000) / total,
      workerCpuUs: (received.cpuMs * 1000) / total,
    };
  });
}

/** Percentiles in ms of latencies in µs. */
function summary(latenciesUs: number[]): { p50: number; p90: number; p99: number; p999: number; max: number } {
  const sorted = Float64Array.from(latenciesUs).sort();
  const ms = (us: number) => us / 1000;
  return {
    p50: ms(percentile(sorted, 50)),
    p90: ms(percentile(sorted, 90)),
    p99: ms(percentile(sorted, 99)),
    p999: ms(percentile(sorted, 99.9)),
    max: ms(sorted[sorted.length - 1] ?? NaN),
  };
}

export const latencyScenario: Scenario = {
  name: 'latency',
  description: `publish → handler latency at a steady ${RATE.toLocaleString('en-US')} events/s, producer and worker in two processes: Sluice vs node-redis loops vs bare sockets`,
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const sluice = await connect({ url: ctx.url });
    const conn = sluice.connection;
    const measuredMs = (ctx.durationS * 1000) / ROUNDS;
    const methods: Array<{ name: LatencyMethod; role: Measurement['role']; method: string; results: RoundResult[]; steal: number[] }> = [
      {
        name: 'sluice',
        role: 'subject',
        method: 'producer: `stream.publish(order)` per event, not awaited (default publisher); worker: stream.consume({ group }, handler) with every option at its default',
        results: [],
        steal: [],
      },
      { name: 'node-redis', role: 'baseline', method: `producer: node-redis client.xAdd() per event, not awaited; worker: ${NODE_REDIS_WORKER_METHOD}`, results: [], steal: [] },
      {
        name: 'raw',
        role: 'ceiling',
        method: `the floor: bare sockets, RESP by hand (bench/baselines/raw-redis.ts); producer: XADD per event, one write per tick; worker: ${RAW_WORKER_METHOD}`,
        results: [],
        steal: [],
      },
    ];
    try {
      for (let round = 1; round <= ROUNDS; round++) {
        for (const m of methods) {
          const key = `bench:latency:${m.name}:${round}`;
          await conn.command(['XGROUP', 'CREATE', key, GROUP, '0', 'MKSTREAM']);
          const host = watchHostCpu();
          const result = await latencyRound(ctx, m.name, key, measuredMs);
          // The tail follows the hypervisor's steal: each round says how much it had.
          const stealPercent = host()?.stealPercent;
          await expectDrained(conn, key, GROUP, Number(await conn.command(['XLEN', key])), m.name);
          await conn.command(['DEL', key]);
          m.results.push(result);
          if (stealPercent !== undefined) m.steal.push(stealPercent);
          const s = summary(result.latenciesUs);
          const steal = stealPercent === undefined ? '' : `, CPU steal ${stealPercent.toFixed(1)}%`;
          ctx.log(`latency round ${round}/${ROUNDS} ${m.name}: p50 ${s.p50.toFixed(3)} ms, p99 ${s.p99.toFixed(3)} ms, max ${s.max.toFixed(1)} ms${steal}`);
        }
      }
    } finally {
      await sluice.close();
    }
    const measurements: Measurement[] = methods.map((m) => {
      const all = summary(m.results.flatMap((r) => r.latenciesUs));
      const rounds = m.results.map((r) => summary(r.latenciesUs).p99);
      return {
        name: m.name,
        role: m.role,
        method: m.method,
        unit: 'p99 ms',
        rounds,
        // Over every measured event of the rounds together, not the median of the rounds' p99s.
        median: all.p99,
        cpuUsPerEvent: median(m.results.map((r) => r.producerCpuUs + r.workerCpuUs)),
        figures: {
          'p50 ms': all.p50,
          'p90 ms': all.p90,
          'p99 ms': all.p99,
          'p99.9 ms': all.p999,
          'max ms': all.max,
          events: m.results.reduce((n, r) => n + r.latenciesUs.length, 0),
          'issued events/s': median(m.results.map((r) => r.producer.issuedRate)),
          'producer lateness p99 ms': Math.max(...m.results.map((r) => r.producer.slipP99Ms)),
          'producer lateness max ms': Math.max(...m.results.map((r) => r.producer.slipMaxMs)),
          'producer CPU µs/event': median(m.results.map((r) => r.producerCpuUs)),
          'worker CPU µs/event': median(m.results.map((r) => r.workerCpuUs)),
          ...Object.fromEntries(m.steal.map((percent, i) => [`round ${i + 1} CPU steal %`, percent])),
        },
      };
    });
    const [subject, baseline, floor] = measurements as [Measurement, Measurement, Measurement];
    const p50 = (m: Measurement) => m.figures?.['p50 ms'] as number;
    return {
      scenario: 'latency',
      events: Math.round((RATE * ctx.durationS) / ROUNDS) * ROUNDS,
      measurements,
      ratios: {
        'sluice/node-redis p50': p50(subject) / p50(baseline),
        'sluice/node-redis p99': subject.median / baseline.median,
        // What Sluice adds to the least any Node client can do on this machine at the moment.
        'sluice/raw p50': p50(subject) / p50(floor),
        'sluice/raw p99': subject.median / floor.median,
      },
      targets: [target('sluice p99 ms', subject.median, '≤', 2)],
      checks: [`every publish succeeded, the worker handled each event once and the group ended with lag 0 and nothing pending, in every round`],
      notes: [
        `${ROUNDS} rounds per method, alternating, each ${WARMUP_MS / 1000} s of warm-up then ${measuredMs / 1000} s measured; percentiles over the measured events of all rounds (the rounds column: each round's p99)`,
        'latency = the worker\'s epoch time (performance.timeOrigin + performance.now()) when the handler is called minus the producer\'s when it called publish (the event\'s `sent_at` field); both processes on one machine',
        'the producer issues every event whose slot (start + i / 5000 s) has come on each 1 ms timer tick; lateness = issue time - slot',
      ],
    };
  },
};
