import type { RedisConnection } from '../redis/connection.js';
import { readStreamInfo, type ConsumerInfo } from '../stream/stream-info.js';

/** One pending entry, as the extended form of XPENDING reports it. */
export interface PendingEntryInfo {
  id: string;
  /** The consumer holding it. */
  consumer: string;
  /** Milliseconds since it was last delivered (or claimed, or touched by its worker's heartbeat). */
  idleMs: number;
  /** Deliveries so far (the count the retry budget is checked against). */
  deliveryCount: number;
}

/** The health of one consumer group: what `sluice groups` shows. */
export interface GroupReport {
  name: string;
  consumers: ConsumerInfo[];
  /** Entries delivered and not yet acknowledged (the PEL size). */
  pending: number;
  /** Entries not yet delivered to the group; null when Redis cannot tell (after some deletions). */
  lag: number | null;
  lastDeliveredId: string;
  /**
   * The pending entry with the lowest ID, and how long it has been idle: the age of the oldest
   * unfinished work. Null when nothing is pending.
   */
  oldestPending: PendingEntryInfo | null;
  /**
   * The pending entries delivered most often, most first (ties in ID order), among the first
   * `sampled` pending entries: retries piling up, or a poison entry crashing its consumers.
   */
  mostDelivered: PendingEntryInfo[];
  /** Pending entries looked at for `mostDelivered` (the first `sample` of the PEL, in ID order). */
  sampled: number;
}

/** What `readGroupReports` reports for a stream. */
export interface GroupsReport {
  stream: string;
  /** False when the key does not exist. */
  exists: boolean;
  groups: GroupReport[];
}

export interface GroupReportOptions {
  /**
   * Pending entries read per group (from the oldest) to find the most delivered ones. Bounds the
   * reply size whatever the PEL's length.
   * @default 1000
   */
  sample?: number;
  /**
   * Entries kept in `mostDelivered`.
   * @default 3
   */
  top?: number;
}

/**
 * Every consumer group of a stream with its consumers, pending count, lag, last-delivered ID, the
 * oldest pending entry's idle time and the most delivered pending entries. Costs XINFO (stream,
 * groups, consumers) and one `XPENDING <stream> <group> - + <sample>` per group with pending
 * entries.
 *
 * @example
 * const report = await readGroupReports(sluice.connection, 'events:orders');
 * for (const g of report.groups) console.log(g.name, g.pending, g.oldestPending?.idleMs);
 */
export async function readGroupReports(conn: RedisConnection, stream: string, options: GroupReportOptions = {}): Promise<GroupsReport> {
  const sample = options.sample ?? 1000;
  const top = options.top ?? 3;
  const info = await readStreamInfo(conn, stream);
  if (!info.exists) return { stream, exists: false, groups: [] };
  const busy = info.groups.filter((g) => g.pending > 0);
  const replies = busy.length > 0 ? await conn.pipeline(busy.map((g) => ['XPENDING', stream, g.name, '-', '+', String(sample)])) : [];
  const pendingByGroup = new Map<string, PendingEntryInfo[]>();
  busy.forEach((g, i) => {
    const reply = replies[i];
    // A group deleted since XINFO (NOGROUP) simply has nothing pending any more.
    pendingByGroup.set(g.name, reply instanceof Error ? [] : parsePendingEntries(reply));
  });
  return {
    stream,
    exists: true,
    groups: info.groups.map((g) => {
      const entries = pendingByGroup.get(g.name) ?? [];
      return {
        name: g.name,
        consumers: g.consumers,
        pending: g.pending,
        lag: g.lag,
        lastDeliveredId: g.lastDeliveredId,
        oldestPending: entries[0] ?? null,
        mostDelivered: mostDelivered(entries, top),
        sampled: entries.length,
      };
    }),
  };
}

/** The rows of `XPENDING key group start end count`: `[id, consumer, idle-ms, deliveries]` each. */
export function parsePendingEntries(reply: unknown): PendingEntryInfo[] {
  if (!Array.isArray(reply)) return [];
  const entries: PendingEntryInfo[] = [];
  for (const row of reply) {
    if (!Array.isArray(row) || row.length < 4) continue;
    const [id, consumer, idle, deliveries] = row as unknown[];
    entries.push({ id: String(id), consumer: String(consumer), idleMs: Number(idle), deliveryCount: Number(deliveries) });
  }
  return entries;
}

/**
 * The `top` entries with the most deliveries, most first; equal counts keep the PEL's ID order.
 * Entries delivered once are left out: they say nothing about retries.
 */
export function mostDelivered(entries: readonly PendingEntryInfo[], top: number): PendingEntryInfo[] {
  // Array.prototype.sort is stable, so ties stay in ID order.
  return entries
    .filter((e) => e.deliveryCount > 1)
    .sort((a, b) => b.deliveryCount - a.deliveryCount)
    .slice(0, Math.max(0, top));
}
