import type { RedisConnection } from '../redis/connection.js';
import { RedisServerError } from '../errors.js';
import { idTime } from './stream-id.js';
import type { HeldBack } from '../flow/retention.js';

/** A consumer of a group, as XINFO CONSUMERS reports it. */
export interface ConsumerInfo {
  name: string;
  /** Entries delivered to it and not yet acknowledged. */
  pending: number;
  /** Milliseconds since its last attempted interaction (read, claim, ack). */
  idleMs: number;
  /** Milliseconds since its last successful interaction; undefined before Redis 7.2. */
  inactiveMs?: number;
}

/** A consumer group of a stream. */
export interface GroupInfo {
  name: string;
  consumers: ConsumerInfo[];
  /** Entries delivered and not yet acknowledged (the PEL size). */
  pending: number;
  lastDeliveredId: string;
  /** Entries the group has read, when Redis can tell (null after some deletions). */
  entriesRead: number | null;
  /** Entries not yet delivered to the group; null when Redis cannot tell (see flow/ for a computed lag). */
  lag: number | null;
}

/** What `stream.info()` reports. */
export interface StreamInfo {
  stream: string;
  /** False when the key does not exist (never written, or deleted). */
  exists: boolean;
  length: number;
  firstId: string | null;
  lastId: string | null;
  /** Epoch ms of the oldest and newest entries (from their IDs). */
  firstTime: number | null;
  lastTime: number | null;
  /** The last ID Redis generated, even if that entry was since trimmed. */
  lastGeneratedId: string | null;
  /** MEMORY USAGE of the key, in bytes (sampled by Redis). */
  memoryBytes: number;
  groups: GroupInfo[];
  /**
   * Set when the last group-respecting trim was held back by a group: which one, how many
   * entries it keeps and how old the oldest is.
   */
  retentionHeldBack?: HeldBack;
}

/** A flat `[name, value, name, value…]` RESP2 map as an object. */
export function pairs(reply: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!Array.isArray(reply)) return out;
  for (let i = 0; i + 1 < reply.length; i += 2) out[String(reply[i])] = reply[i + 1];
  return out;
}

/** The ID of an entry as a reply holds it (`[id, fields]`); null for anything else. */
export function entryId(entry: unknown): string | null {
  return Array.isArray(entry) && typeof entry[0] === 'string' ? entry[0] : null;
}

/** The ID of the first entry of an XRANGE reply; null when it is empty (or an error). */
export function firstEntryId(reply: unknown): string | null {
  return Array.isArray(reply) ? entryId(reply[0]) : null;
}

function numberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

export async function readStreamInfo(conn: RedisConnection, stream: string): Promise<StreamInfo> {
  const [type, streamReply, groupsReply, memory] = await conn.pipeline([
    ['TYPE', stream],
    ['XINFO', 'STREAM', stream],
    ['XINFO', 'GROUPS', stream],
    ['MEMORY', 'USAGE', stream],
  ]);
  if (type === 'none') {
    return { stream, exists: false, length: 0, firstId: null, lastId: null, firstTime: null, lastTime: null, lastGeneratedId: null, memoryBytes: 0, groups: [] };
  }
  if (type !== 'stream') {
    throw new RedisServerError('WRONGTYPE', `The key \`${stream}\` holds a ${String(type)}, not a stream`);
  }
  if (streamReply instanceof Error) throw streamReply;
  if (groupsReply instanceof Error) throw groupsReply;
  const info = pairs(streamReply);
  const firstId = entryId(info['first-entry']);
  const lastId = entryId(info['last-entry']);
  const groupList = (groupsReply as unknown[]).map(pairs);
  const consumerReplies = groupList.length
    ? await conn.pipeline(groupList.map((g) => ['XINFO', 'CONSUMERS', stream, String(g.name)]))
    : [];
  const groups: GroupInfo[] = groupList.map((g, i) => {
    const consumers = consumerReplies[i];
    return {
      name: String(g.name),
      pending: Number(g.pending ?? 0),
      lastDeliveredId: String(g['last-delivered-id']),
      entriesRead: numberOrNull(g['entries-read']),
      lag: numberOrNull(g.lag),
      consumers: Array.isArray(consumers)
        ? consumers.map(pairs).map((c) => {
            const consumer: ConsumerInfo = { name: String(c.name), pending: Number(c.pending), idleMs: Number(c.idle) };
            if (c.inactive !== undefined) consumer.inactiveMs = Number(c.inactive);
            return consumer;
          })
        : [],
    };
  });
  return {
    stream,
    exists: true,
    length: Number(info.length),
    firstId,
    lastId,
    firstTime: firstId ? idTime(firstId) : null,
    lastTime: lastId ? idTime(lastId) : null,
    lastGeneratedId: info['last-generated-id'] ? String(info['last-generated-id']) : null,
    memoryBytes: typeof memory === 'number' ? memory : 0,
    groups,
  };
}
