import { connect, type Sluice } from '../../src/index.js';
import { connectNodeRedis } from '../baselines/node-redis-group-worker.js';
import { NODE_REDIS_BATCH, NODE_REDIS_IN_FLIGHT } from '../baselines/node-redis-xadd-pipeline.js';
import { orderAt, orderKeyAt } from '../lib/orders.js';
import type { BenchContext, Measurement, Scenario, ScenarioResult } from '../lib/scenario.js';
import { target } from '../lib/scenario.js';
import { SLUICE_CALLERS } from './publish.js';

/** Memory per entry does not depend on the count past a few thousand; this is plenty. */
const MAX_EVENTS = 100_000;

type Fill = (key: string, events: number) => Promise<void>;

/** `SLUICE_CALLERS` concurrent callers of `stream.publish(orderAt(i), options)`, as in `publish`. */
function sluiceFill(sluice: Sluice, withKey: boolean): Fill {
  return async (key, events) => {
    const stream = sluice.stream(key);
    let next = 0;
    const caller = async () => {
      while (next < events) {
        const i = next++;
        await (withKey ? stream.publish(orderAt(i), { key: orderKeyAt(i) }) : stream.publish(orderAt(i)));
      }
    };
    await Promise.all(Array.from({ length: Math.min(SLUICE_CALLERS, events) }, caller));
  };
}

/** The publish scenario's node-redis loop (multi() + 1000 xAdd, 4 in flight), with the same events. */
function nodeRedisFill(url: string, withKey: boolean): Fill {
  return async (key, events) => {
    const client = await connectNodeRedis(url);
    try {
      let next = 0;
      const worker = async () => {
        while (next < events) {
          const count = Math.min(NODE_REDIS_BATCH, events - next);
          const first = next;
          next += count;
          const multi = client.multi();
          for (let i = first; i < first + count; i++) multi.xAdd(key, '*', withKey ? { ...orderAt(i), $key: orderKeyAt(i) } : orderAt(i));
          await multi.execAsPipeline();
        }
      };
      await Promise.all(Array.from({ length: NODE_REDIS_IN_FLIGHT }, worker));
    } finally {
      await client.close();
    }
  };
}

async function usedMemory(sluice: Sluice): Promise<number> {
  const info = await sluice.connection.command<string>(['INFO', 'memory']);
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1]);
}

export const redisMemoryScenario: Scenario = {
  name: 'redis-memory',
  description: 'Redis memory per event: the 4-field order event published by Sluice (plain, and with an ordering key) vs a plain XADD of the same fields',
  async run(ctx: BenchContext): Promise<ScenarioResult> {
    const events = Math.min(ctx.events, MAX_EVENTS);
    const sluice = await connect({ url: ctx.url });
    const conn = sluice.connection;
    const config = await conn.command<string[]>(['CONFIG', 'GET', 'stream-node-max-*']);
    const methods: Array<{ name: string; role: Measurement['role']; method: string; fill: Fill }> = [
      { name: 'sluice', role: 'subject', method: '`stream.publish(order)` (default options: the event\'s 4 fields, nothing added)', fill: sluiceFill(sluice, false) },
      { name: 'sluice $key', role: 'subject', method: "`stream.publish(order, { key: 'customer:<customer_id>' })`: a 5th field `$key`", fill: sluiceFill(sluice, true) },
      { name: 'baseline', role: 'baseline', method: 'node-redis xAdd(key, "*", order): the same 4 fields (multi() + 1000 xAdd, 4 in flight)', fill: nodeRedisFill(ctx.url, false) },
      { name: 'baseline $key', role: 'baseline', method: 'node-redis xAdd of the same 5 fields, `$key` included', fill: nodeRedisFill(ctx.url, true) },
    ];
    const measurements: Measurement[] = [];
    try {
      for (const m of methods) {
        const key = `bench:memory:${m.name.replace(/[^a-z]+/g, '-')}`;
        await conn.command(['DEL', key]);
        const before = await usedMemory(sluice);
        await m.fill(key, events);
        const length = Number(await conn.command(['XLEN', key]));
        if (length !== events) throw new Error(`${m.name}: the stream ${key} holds ${length} entries after ${events} publishes`);
        const bytes = Number(await conn.command(['MEMORY', 'USAGE', key, 'SAMPLES', '0']));
        const after = await usedMemory(sluice);
        await conn.command(['DEL', key]);
        const perEvent = bytes / events;
        ctx.log(`redis-memory ${m.name}: ${perEvent.toFixed(1)} bytes/event (MEMORY USAGE)`);
        measurements.push({
          name: m.name,
          role: m.role,
          method: m.method,
          unit: 'bytes/event',
          rounds: [perEvent],
          median: perEvent,
          figures: { 'MEMORY USAGE bytes': bytes, 'used_memory delta bytes/event': (after - before) / events },
        });
      }
    } finally {
      await sluice.close();
    }
    const [plain, keyed, baseline, baselineKeyed] = measurements as [Measurement, Measurement, Measurement, Measurement];
    const ratios = {
      'sluice/baseline': plain.median / baseline.median,
      'sluice $key/baseline (4 fields)': keyed.median / baseline.median,
      'sluice $key/baseline $key (the same 5 fields)': keyed.median / baselineKeyed.median,
      'sluice/baseline used_memory delta': (plain.figures?.['used_memory delta bytes/event'] as number) / (baseline.figures?.['used_memory delta bytes/event'] as number),
    };
    return {
      scenario: 'redis-memory',
      events,
      measurements,
      ratios,
      targets: [target('sluice/baseline bytes per event', ratios['sluice/baseline'], '≤', 1.1)],
      checks: [`every stream held exactly ${events} entries (XLEN) when measured`],
      notes: [
        `one fill of ${events} events per method; bytes/event = MEMORY USAGE key SAMPLES 0 (every node counted) / ${events}; used_memory delta = INFO memory before and after the fill, allocator included`,
        `the events vary as real orders do (order_id counting up, 50,000 customers, varied amounts, 3 statuses), the same sequence for every method; server ${config.join(' ')}`,
      ],
    };
  },
};
