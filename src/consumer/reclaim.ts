import type { RedisConnection } from '../redis/connection.js';
import { LuaScript } from '../redis/lua-script.js';
import type { RawEntry } from '../stream/entries.js';

const redeliverScript = new LuaScript('redeliver-1.lua');
const touchScript = new LuaScript('touch-1.lua');
const reclaimScript = new LuaScript('reclaim-2.lua');

/** An entry taken over from another consumer, with its delivery count (this delivery included). */
export interface ClaimedEntry {
  entry: RawEntry;
  deliveryCount: number;
}

export interface ReclaimResult {
  claimed: ClaimedEntry[];
  /**
   * Entries that were pending but whose payload is gone, already dead-lettered as `missing` in
   * the same atomic step (XAUTOCLAIM removes them from the PEL): original ID → dead-letter ID.
   */
  deadLettered: Array<{ id: string; deadLetterId: string }>;
  /** Where the next pass continues (`0-0` once the whole PEL was scanned). */
  cursor: string;
}

export interface ReclaimTarget {
  stream: string;
  group: string;
  consumer: string;
}

/**
 * Takes over entries pending on other consumers for at least `minIdleMs` (XAUTOCLAIM) with their
 * delivery counts, so the retry budget applies to reclaimed entries too: a poison entry that
 * crashes every worker that takes it still ends in the dead-letter stream. One Lua step, which
 * also dead-letters entries whose payload is gone (see reclaim-2.lua).
 */
export async function reclaimIdle(
  conn: RedisConnection,
  target: ReclaimTarget & { deadLetter: string },
  options: { minIdleMs: number; cursor: string; count: number },
): Promise<ReclaimResult> {
  const [next, entries, counts, deleted, deadLetterIds] = await reclaimScript.run<[string, RawEntry[], number[], string[], string[]]>(
    conn,
    [target.stream, target.deadLetter],
    [target.group, target.consumer, String(options.minIdleMs), options.cursor, String(options.count), String(Date.now()), '0'],
    // Safe to repeat: a second run claims nothing the first already took (they are no longer idle).
    { retry: true },
  );
  return {
    claimed: entries.map((entry, i) => ({ entry, deliveryCount: Number(counts[i] ?? 1) })),
    deadLettered: deleted.map((id, i) => ({ id, deadLetterId: deadLetterIds[i] as string })),
    cursor: next,
  };
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
