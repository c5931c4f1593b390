import type { RedisServer } from './redis-server.js';

/** One entry as `redis-cli --json XRANGE` shows it: its ID and its flat field list. */
export type CliEntry = [id: string, fields: string[]];

/** The entries of a stream as redis-cli sees them (XRANGE - +). */
export async function cliRange(server: RedisServer, key: string): Promise<CliEntry[]> {
  return JSON.parse(await server.cli('--json', 'XRANGE', key, '-', '+')) as CliEntry[];
}

/** XLEN through redis-cli. */
export async function cliLength(server: RedisServer, key: string): Promise<number> {
  return Number(await server.cli('XLEN', key));
}

/** How many times the server has run `command` (INFO commandstats), to prove a call sent nothing. */
export async function commandCalls(server: RedisServer, command: string): Promise<number> {
  const stats = await server.cli('INFO', 'commandstats');
  const match = new RegExp(`^cmdstat_${command.toLowerCase()}:calls=(\\d+)`, 'm').exec(stats);
  return match ? Number(match[1]) : 0;
}

/** Client connections other than the redis-cli asking. */
export async function clientList(server: RedisServer): Promise<string[]> {
  const lines = (await server.cli('CLIENT', 'LIST')).split('\n').filter(Boolean);
  return lines.filter((line) => !/ cmd=client\|list /.test(line));
}

/** True when some client is blocked in XREAD (its command shows while it waits). */
export async function blockedInXread(server: RedisServer): Promise<boolean> {
  return (await clientList(server)).some((line) => / cmd=xread /.test(line) && / flags=b /.test(line));
}

/** Everything an async iterable yields, until it ends. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** Waits until Date.now() is past the time of `ms`, so the next ID has a later millisecond. */
export async function clockPast(ms: number): Promise<void> {
  while (Date.now() <= ms) await new Promise((resolve) => setTimeout(resolve, 1));
}

/** Commands the server has run, all kinds but INFO (which this helper sends), to prove a call did no I/O. */
export async function totalCalls(server: RedisServer): Promise<number> {
  const stats = await server.cli('INFO', 'commandstats');
  let total = 0;
  for (const match of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    if (match[1] !== 'info') total += Number(match[2]);
  }
  return total;
}

/**
 * Reads `events` to the end in the background, as a reader waiting for events that never come.
 * Resolves once the read ends: to what it threw, or undefined when it ended quietly.
 */
export function drainInBackground(events: AsyncIterable<unknown>): Promise<unknown> {
  return (async () => {
    for await (const _event of events) {
      // nothing is expected
    }
  })().then(
    () => undefined,
    (error: unknown) => error,
  );
}
