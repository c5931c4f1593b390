import { entryId, pairs } from '../stream/stream-info.js';

/**
 * Pure parsers of the replies the overview pipelines (RESP2 shapes, as Redis 7.0+ sends them).
 * Kept apart from the I/O so each shape is unit-tested without a server.
 */

/** What the overview takes from `XINFO STREAM <key>`. */
export interface StreamFacts {
  length: number;
  firstId: string | null;
  lastId: string | null;
  /** `entries-added`: every entry ever appended (trimmed or deleted ones included). */
  entriesAdded: number;
}

/** What the overview takes from one row of `XINFO GROUPS <key>`. */
export interface GroupFacts {
  name: string;
  consumers: number;
  pending: number;
  lastDeliveredId: string;
  entriesRead: number | null;
  lag: number | null;
}

/** `XPENDING <key> <group>` (the summary form): the count and the lowest pending ID. */
export interface PendingSummary {
  count: number;
  oldestId: string | null;
}

/** What the overview takes from one row of `XINFO CONSUMERS <key> <group>`. */
export interface ConsumerFacts {
  name: string;
  pending: number;
  idleMs: number;
}

function numberOrNull(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/** Undefined when the reply is not an XINFO STREAM map (an error: the key is gone or not a stream). */
export function parseStreamFacts(reply: unknown): StreamFacts | undefined {
  if (!Array.isArray(reply)) return undefined;
  const info = pairs(reply);
  const length = numberOrNull(info.length);
  if (length === null) return undefined;
  return {
    length,
    firstId: entryId(info['first-entry']),
    lastId: entryId(info['last-entry']),
    // Present since Redis 7.0, the floor Sluice supports; 0 keeps a rate of "unknown" harmless.
    entriesAdded: numberOrNull(info['entries-added']) ?? 0,
  };
}

export function parseGroupFacts(reply: unknown): GroupFacts[] {
  if (!Array.isArray(reply)) return [];
  return reply.map(pairs).map((g) => ({
    name: String(g.name),
    consumers: Number(g.consumers ?? 0),
    pending: Number(g.pending ?? 0),
    lastDeliveredId: String(g['last-delivered-id'] ?? '0-0'),
    entriesRead: numberOrNull(g['entries-read']),
    lag: numberOrNull(g.lag),
  }));
}

/** `[count, lowest-id, highest-id, [[consumer, count]…]]`; an error (group gone) reads as nothing pending. */
export function parsePendingSummary(reply: unknown): PendingSummary {
  if (!Array.isArray(reply)) return { count: 0, oldestId: null };
  const count = Number(reply[0] ?? 0);
  const oldestId = typeof reply[1] === 'string' ? reply[1] : null;
  return { count: Number.isFinite(count) ? count : 0, oldestId };
}

export function parseConsumerFacts(reply: unknown): ConsumerFacts[] {
  if (!Array.isArray(reply)) return [];
  return reply.map(pairs).map((c) => ({ name: String(c.name), pending: Number(c.pending ?? 0), idleMs: Number(c.idle ?? 0) }));
}

/** The retention state hash (`HGETALL {stream}:retention`) as the group holding it back, if any. */
export function parseHeldBack(reply: unknown): { group: string; entries: number; bound: string } | null {
  if (!Array.isArray(reply) || reply.length === 0) return null;
  const state = pairs(reply);
  if (typeof state.group !== 'string' || state.group === '' || typeof state.bound !== 'string' || state.bound === '') return null;
  return { group: state.group, entries: Number(state.entries ?? 0) || 0, bound: state.bound };
}

/** A non-negative integer reply (XLEN, MEMORY USAGE), else null. */
export function parseCount(reply: unknown): number | null {
  return typeof reply === 'number' && Number.isFinite(reply) && reply >= 0 ? reply : null;
}

const DLQ_NAME = /^\{([^{}]+)\}:dlq$/;
const TAGGED_DLQ_NAME = /^(\{[^{}]+\}[^{}]*):dlq$/;

/**
 * The stream whose default dead-letter stream `name` is, else undefined: the inverse of
 * `helperKey(stream, 'dlq')` (`{events:orders}:dlq` → `events:orders`,
 * `{events:orders}:eu:dlq` → `{events:orders}:eu`).
 */
export function deadLetterOwner(name: string): string | undefined {
  return DLQ_NAME.exec(name)?.[1] ?? TAGGED_DLQ_NAME.exec(name)?.[1];
}
