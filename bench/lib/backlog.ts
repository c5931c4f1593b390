import type { RedisConnection } from '../../src/redis/connection.js';
import { redisBenchmark } from '../baselines/redis-benchmark.js';

/** The guide's order event, as redis-cli writes it. */
export const ORDER_FIELDS = ['order_id', '12345', 'customer_id', '67890', 'amount', '99.99', 'status', 'pending'];

/**
 * A fresh stream of exactly `events` order events and a group at `0` on it (untimed set-up of a
 * consume round). redis-benchmark writes them (4 connections × 1000 pipelined XADDs: the fastest
 * way in); it can round up to whole pipelines, so any extra entries are trimmed off.
 */
export async function fillBacklog(options: { conn: RedisConnection; benchmark: string; port: number; key: string; group: string; events: number }): Promise<void> {
  const { conn, key, events } = options;
  await conn.command(['DEL', key]);
  await redisBenchmark({ binary: options.benchmark, port: options.port, events, command: ['XADD', key, '*', ...ORDER_FIELDS], clients: 4, pipeline: 1000 });
  const length = Number(await conn.command(['XLEN', key]));
  if (length < events) throw new Error(`redis-benchmark wrote ${length} entries to ${key}, expected ${events}`);
  if (length > events) await conn.command(['XTRIM', key, 'MAXLEN', String(events)]);
  await conn.command(['XGROUP', 'CREATE', key, options.group, '0']);
}

/**
 * Throws unless the group has read every entry and acknowledged it: XPENDING count 0, XINFO
 * GROUPS lag 0 and entries-read = the stream's length.
 */
export async function expectDrained(conn: RedisConnection, key: string, group: string, events: number, who: string): Promise<void> {
  const [pending] = await conn.command<[number, ...unknown[]]>(['XPENDING', key, group]);
  const groups = await conn.command<unknown[][]>(['XINFO', 'GROUPS', key]);
  const info = groups.map(pairsOf).find((g) => g.name === group);
  const problems: string[] = [];
  if (Number(pending) !== 0) problems.push(`${pending} entries still pending`);
  if (!info) problems.push(`no group ${group}`);
  else {
    if (Number(info.lag) !== 0) problems.push(`lag ${String(info.lag)}`);
    if (Number(info['entries-read']) !== events) problems.push(`entries-read ${String(info['entries-read'])}`);
  }
  if (problems.length) throw new Error(`${who}: after draining ${events} events from ${key}, group ${group} has ${problems.join(', ')}`);
}

function pairsOf(flat: unknown[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = flat[i + 1];
  return out;
}
