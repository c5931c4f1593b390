import type { RedisConnection } from '../redis/connection.js';
import type { RawEntry } from '../stream/entries.js';
import { idTime } from '../stream/stream-id.js';
import { firstEntryId, pairs } from '../stream/stream-info.js';

/** How far a group is behind its stream. */
export interface GroupLag {
  group: string;
  /** Entries not yet delivered to the group. */
  lag: number;
  /** False when the count stopped at `limit` (the lag is at least `lag`). */
  exact: boolean;
  /** Entries delivered and not yet acknowledged. */
  pending: number;
  lastDeliveredId: string;
}

const COUNT_PAGE = 1000;

/**
 * The lag of every group of a stream. Redis reports it in XINFO GROUPS, except after deletions
 * or trimming that make its counters unreliable, where it reports nil; then Sluice counts the
 * entries after the group's last-delivered ID (up to `limit`) rather than treat nil as zero.
 */
export async function groupLags(conn: RedisConnection, stream: string, limit = 100_000): Promise<GroupLag[]> {
  const [type, reply] = await conn.pipeline([['TYPE', stream], ['XINFO', 'GROUPS', stream]]);
  if (type === 'none') return [];
  if (reply instanceof Error) throw reply;
  const lags: GroupLag[] = [];
  for (const group of (reply as unknown[]).map(pairs)) {
    const lastDeliveredId = String(group['last-delivered-id']);
    const base = { group: String(group.name), pending: Number(group.pending), lastDeliveredId };
    if (group.lag !== null && group.lag !== undefined) {
      lags.push({ ...base, lag: Number(group.lag), exact: true });
    } else {
      const { lag, exact } = await countAfter(conn, stream, lastDeliveredId, limit);
      lags.push({ ...base, lag, exact });
    }
  }
  return lags;
}

/**
 * Entries with an ID greater than `after`, counted in pages up to `limit`; `last` is the newest
 * entry counted (`after` when none was).
 */
export async function countAfter(conn: RedisConnection, stream: string, after: string, limit: number): Promise<{ lag: number; exact: boolean; last: string }> {
  let counted = 0;
  let last = after;
  while (counted < limit) {
    const want = Math.min(COUNT_PAGE, limit - counted);
    const page = await conn.command<RawEntry[]>(['XRANGE', stream, `(${last}`, '+', 'COUNT', String(want)]);
    counted += page.length;
    if (page.length > 0) last = (page[page.length - 1] as RawEntry)[0];
    if (page.length < want) return { lag: counted, exact: true, last };
  }
  return { lag: counted, exact: false, last };
}

/**
 * How far behind each group is in time at `at`: the age of the oldest entry not yet delivered to
 * it (`at` minus the time in its ID); 0 for a group with nothing undelivered. One pipelined
 * `XRANGE … COUNT 1` for the groups that have a lag.
 */
export async function groupsBehindMs(conn: RedisConnection, stream: string, groups: readonly Pick<GroupLag, 'lag' | 'lastDeliveredId'>[], at: number): Promise<number[]> {
  const asked = groups.map((g, i) => (g.lag > 0 ? i : -1)).filter((i) => i >= 0);
  const replies = asked.length === 0 ? [] : await conn.pipeline(asked.map((i) => ['XRANGE', stream, `(${(groups[i] as GroupLag).lastDeliveredId}`, '+', 'COUNT', '1']));
  const behind = groups.map(() => 0);
  asked.forEach((i, n) => {
    const first = firstEntryId(replies[n]);
    if (first !== null) behind[i] = Math.max(0, at - idTime(first));
  });
  return behind;
}
