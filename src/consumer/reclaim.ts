import type { RedisConnection } from '../redis/connection.js';
import { LuaScript } from '../redis/lua-script.js';
import type { RawEntry } from '../stream/entries.js';

const redeliverScript = new LuaScript('redeliver-1.lua');
const touchScript = new LuaScript('touch-1.lua');

/** An entry taken over from another consumer, with its delivery count (this delivery included). */
export interface ClaimedEntry {
  entry: RawEntry;
  deliveryCount: number;
}

export interface ReclaimResult {
  claimed: ClaimedEntry[];
  /** Entries that were pending but whose payload is gone (XAUTOCLAIM removed them from the PEL). */
  deleted: string[];
  /** Where the next pass continues (`0-0` once the whole PEL was scanned). */
  cursor: string;
}

export interface ReclaimTarget {
  stream: string;
  group: string;
  consumer: string;
}

/**
 * Takes over entries pending on other consumers for at least `minIdleMs` (XAUTOCLAIM), and reads
 * their delivery counts (XPENDING) so the retry budget applies to reclaimed entries too: a poison
 * entry that crashes every worker that takes it still ends in the dead-letter stream.
 */
export async function reclaimIdle(conn: RedisConnection, target: ReclaimTarget, minIdleMs: number, cursor: string, count: number): Promise<ReclaimResult> {
  const reply = await conn.command<[string, RawEntry[], string[]?]>([
    'XAUTOCLAIM', target.stream, target.group, target.consumer, String(minIdleMs), cursor, 'COUNT', String(count),
  ]);
  const [next, entries, deleted = []] = reply;
  const claimed: ClaimedEntry[] = [];
  if (entries.length > 0) {
    const first = (entries[0] as RawEntry)[0];
    const last = (entries[entries.length - 1] as RawEntry)[0];
    const pending = await conn.command<Array<[string, string, number, number]>>([
      'XPENDING', target.stream, target.group, first, last, String(entries.length * 2), target.consumer,
    ]);
    const counts = new Map(pending.map(([id, , , deliveries]) => [id, Number(deliveries)]));
    for (const entry of entries) claimed.push({ entry, deliveryCount: counts.get(entry[0]) ?? 1 });
  }
  return { claimed, deleted, cursor: next };
}

/**
 * This consumer's own pending entries (after a restart with a stable consumer name), oldest
 * first, from `start` (`-`, or `(<id>` to continue after an ID).
 */
export async function ownPending(conn: RedisConnection, target: ReclaimTarget, start: string, count: number): Promise<string[]> {
  const pending = await conn.command<Array<[string, string, number, number]>>([
    'XPENDING', target.stream, target.group, start, '+', String(count), target.consumer,
  ]);
  return pending.map(([id]) => id);
}

export type Redelivery =
  | { kind: 'gone' }
  | { kind: 'missing'; deliveryCount: number }
  | { kind: 'claimed'; deliveryCount: number; entry: RawEntry };

/** Delivers one of this consumer's pending entries again, raising its delivery count. */
export async function redeliver(conn: RedisConnection, target: ReclaimTarget, id: string): Promise<Redelivery> {
  const reply = await redeliverScript.run<[number, number?, string[]?]>(conn, [target.stream], [target.group, target.consumer, id], {
    // Not blindly repeatable (each run counts a delivery), but a repeat after a lost reply only
    // over-counts by one: the entry is never lost or duplicated.
    retry: true,
  });
  if (reply[0] === 0) return { kind: 'gone' };
  if (reply[0] === 1) return { kind: 'missing', deliveryCount: Number(reply[1]) };
  return { kind: 'claimed', deliveryCount: Number(reply[1]), entry: [id, reply[2] ?? []] };
}

/** Resets the idle time of entries this consumer still works on (see touch-1.lua). */
export async function touchEntries(conn: RedisConnection, target: ReclaimTarget, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  return touchScript.run<number>(conn, [target.stream], [target.group, target.consumer, ...ids], { retry: true });
}
