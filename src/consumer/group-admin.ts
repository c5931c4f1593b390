import { InvalidOptionError, SluiceError } from '../errors.js';
import type { RedisConnection } from '../redis/connection.js';
import { LuaScript } from '../redis/lua-script.js';
import { countAfter } from '../flow/lag.js';
import { startAfter, type ReadFrom } from '../stream/reader.js';
import { compareIds } from '../stream/stream-id.js';
import { pairs } from '../stream/stream-info.js';
import { ensureGroup, isNoGroup } from './group.js';
import { rateLimitKey } from './rate-limit.js';

/**
 * Operating a consumer group by hand: create it at a position, move it (replay from a time after a
 * bug fix, or skip a backlog), delete it once nothing reads it. What `sluice group` runs.
 */

const positionScript = new LuaScript('group-position-1.lua');
const destroyScript = new LuaScript('group-destroy-2.lua');

/** Most entries counted after a new position to keep the group's lag exact; past it, Redis reports the lag as unknown until the group reads to the end. */
const LAG_COUNT_LIMIT = 1_000_000;
/** Entries appended while counting, counted again in the script; past it the count starts over. */
const CATCH_UP_LIMIT = 10_000;

/** Where a group is. */
export interface GroupPosition {
  stream: string;
  group: string;
  /** The next read (`>`) delivers the entries after this ID. */
  lastDeliveredId: string;
  /** Entries after it, to be delivered; null when there were too many to count. */
  lag: number | null;
  /** Entries delivered and not yet acknowledged: moving a group leaves them with their consumers. */
  pending: number;
}

export interface CreateGroupResult extends GroupPosition {
  /** False when the group existed already: it was left where it was. */
  created: boolean;
}

export interface ResetGroupResult extends GroupPosition {
  /** Where the group was before. */
  previousId: string;
}

export interface DeleteGroupOptions {
  /**
   * Delete even with pending entries (they are forgotten) or consumers active in the last
   * `activeMs` (a running worker creates the group again). @default false
   */
  force?: boolean;
  /** A consumer idle for less than this many ms counts as running. @default 60000 */
  activeMs?: number;
}

export interface DeleteGroupResult {
  stream: string;
  group: string;
  /** The pending entries the group held when it was deleted (forgotten with it). */
  pending: number;
}

/**
 * Creates the group at `from` (`$`: only events appended from now on; `0`: the whole stream; an
 * ID: the events after it; a Date or ISO time: the events from then on), and the stream with it
 * if missing. A group that exists is left where it is (`created: false`).
 */
export async function createGroup(conn: RedisConnection, stream: string, group: string, from: ReadFrom = '$'): Promise<CreateGroupResult> {
  checkGroupName(group);
  const outcome = await createAt(conn, stream, group, startAfter(from) ?? '$');
  if (outcome === 'too-many') {
    // Counting stopped at the limit a moment ago: not again.
    const found = await readGroup(conn, stream, group);
    return { stream, group, lastDeliveredId: found.lastDeliveredId, lag: found.lag, pending: found.pending, created: true };
  }
  return { ...(await groupPosition(conn, stream, group)), created: outcome === 'created' };
}

/**
 * Creates the group after `startId` (`$`, or an ID) unless it exists, with its lag exact from the
 * start: in the middle of a stream, Redis is given the entries-read counter in the same atomic
 * step (a worker of the group in another process may start reading at any moment, so the counter
 * is never set afterwards). Resolves to true when it created the group. Workers start with it.
 */
export async function createGroupAt(conn: RedisConnection, stream: string, group: string, startId: string): Promise<boolean> {
  return (await createAt(conn, stream, group, startId)) !== 'exists';
}

/** `createGroupAt`, saying also when the group was created without its count (`too-many`). */
async function createAt(conn: RedisConnection, stream: string, group: string, startId: string): Promise<'created' | 'exists' | 'too-many'> {
  // At either end of a stream Redis keeps the count by itself.
  if (startId === '$' || startId === '0-0' || startId === '0') return (await ensureGroup(conn, stream, group, startId)) ? 'created' : 'exists';
  // Workers restart far more often than groups are created: no count when the group is there.
  if (await groupExists(conn, stream, group)) return 'exists';
  const outcome = await withExactLag(conn, stream, group, startId, 'create');
  if (outcome === 'done') return 'created';
  if (outcome === 'exists') return 'exists';
  // Too many entries to count: a plain create, the lag unknown until the group has read to the end.
  return (await ensureGroup(conn, stream, group, startId)) ? 'too-many' : 'exists';
}

/**
 * Moves the group so that its next read delivers the events after `to` (`$`: none of the events
 * there now; `0`: the whole stream again; an ID; a Date or ISO time: the events from then on).
 * Workers running in the group go on from there at their next read. Pending entries stay with
 * their consumers; a position before them delivers them again as well.
 */
export async function resetGroup(conn: RedisConnection, stream: string, group: string, to: ReadFrom): Promise<ResetGroupResult> {
  checkGroupName(group);
  if (to === undefined) throw new InvalidOptionError('to', to, '`$`, `0`, a stream ID, a Date or an ISO time');
  const explicit = startAfter(to); // checked before any I/O
  const before = await readGroup(conn, stream, group);
  const target = explicit ?? before.streamLastId;
  return { ...(await moveGroup(conn, stream, group, target, before.streamLastId)), previousId: before.lastDeliveredId };
}

/**
 * Deletes the group (XGROUP DESTROY), and its rate-limit bucket. Refused, with the reason, while
 * it has pending entries or a consumer active in the last `activeMs`, unless `force`: both checks
 * and the delete are one atomic step.
 */
export async function deleteGroup(conn: RedisConnection, stream: string, group: string, options: DeleteGroupOptions = {}): Promise<DeleteGroupResult> {
  checkGroupName(group);
  const activeMs = options.activeMs ?? 60_000;
  if (!Number.isFinite(activeMs) || activeMs < 0) throw new InvalidOptionError('activeMs', activeMs, 'a number of milliseconds ≥ 0');
  await readGroup(conn, stream, group); // a clear error when the stream or the group is missing
  const reply = await destroyScript.run<[number, number, string?, number?]>(conn, [stream, rateLimitKey(stream, group)], [group, options.force === true ? '1' : '0', String(activeMs)]);
  const [deleted, pending, consumer, idle] = reply;
  if (deleted === 1) return { stream, group, pending };
  if (consumer !== undefined && consumer !== '') {
    throw new SluiceError(
      'ERR_GROUP_ACTIVE',
      `Group \`${group}\` of \`${stream}\` has a running consumer, \`${consumer}\` (active ${Math.round((idle ?? 0) / 1000)} s ago): stop the group's workers first (a running worker would create the group again), or force it`,
    );
  }
  throw new SluiceError(
    'ERR_GROUP_PENDING',
    `Group \`${group}\` of \`${stream}\` has ${pending} pending entries, delivered and not acknowledged: deleting it forgets them. Let its workers finish, or force it`,
  );
}

/**
 * The group's position now; SluiceError ERR_NO_STREAM / ERR_NO_GROUP when it is not there. Where
 * Redis cannot tell the lag, it is counted (up to a limit).
 */
export async function groupPosition(conn: RedisConnection, stream: string, group: string): Promise<GroupPosition> {
  const found = await readGroup(conn, stream, group);
  const lag = found.lag ?? (await countedLag(conn, stream, found.lastDeliveredId));
  return { stream, group, lastDeliveredId: found.lastDeliveredId, lag, pending: found.pending };
}

/** XINFO GROUPS of one group, as Redis says it (null where Redis cannot tell). */
async function readGroup(conn: RedisConnection, stream: string, group: string): Promise<{ lastDeliveredId: string; lag: number | null; pending: number; streamLastId: string }> {
  const [type, reply, last] = await conn.pipeline([['TYPE', stream], ['XINFO', 'GROUPS', stream], ['XREVRANGE', stream, '+', '-', 'COUNT', '1']]);
  if (type === 'none') throw new SluiceError('ERR_NO_STREAM', `Stream \`${stream}\` does not exist: check its name with \`sluice info\``);
  if (reply instanceof Error) throw reply;
  const found = (reply as unknown[]).map(pairs).find((g) => String(g.name) === group);
  if (found === undefined) throw noGroup(stream, group);
  const orNull = (value: unknown) => (value === null || value === undefined ? null : Number(value));
  const newest = Array.isArray(last) ? (last[0] as [string] | undefined)?.[0] : undefined;
  return {
    lastDeliveredId: String(found['last-delivered-id']),
    lag: orNull(found.lag),
    pending: Number(found.pending),
    streamLastId: newest ?? '0-0',
  };
}

/**
 * SETID to `target`, keeping the group's lag exact. At the start (`0`) or the end (`$`) of a
 * stream Redis keeps the count by itself: a plain SETID, nothing to count, which matters for the
 * replay of a long stream. In the middle Redis would report the lag as unknown until the group has
 * read to the end, so Sluice counts the entries after the position and moves the group with its
 * entries-read counter in one atomic step (group-position-1.lua). The group is moved once: a
 * worker reading meanwhile never sees it moved back.
 */
async function moveGroup(conn: RedisConnection, stream: string, group: string, target: string, streamLastId: string): Promise<GroupPosition> {
  try {
    const atAnEnd = target === '0-0' || compareIds(target, streamLastId) >= 0;
    if (!atAnEnd && (await withExactLag(conn, stream, group, target, 'setid')) === 'too-many') {
      // Too many to count: the lag stays unknown until the group has read to the end.
      await conn.command(['XGROUP', 'SETID', stream, group, target]);
      const moved = await readGroup(conn, stream, group);
      return { stream, group, lastDeliveredId: moved.lastDeliveredId, lag: moved.lag, pending: moved.pending };
    }
    if (atAnEnd) await conn.command(['XGROUP', 'SETID', stream, group, target]);
    return await groupPosition(conn, stream, group);
  } catch (error) {
    if (isNoGroup(error)) throw noGroup(stream, group);
    throw error;
  }
}

/**
 * Creates the group at `target`, or moves it there, with the entries-read counter that keeps its
 * lag exact (group-position-1.lua): `exists` when creating a group that is there already,
 * `too-many` past LAG_COUNT_LIMIT entries after `target` (nothing done then).
 */
async function withExactLag(conn: RedisConnection, stream: string, group: string, target: string, mode: 'create' | 'setid'): Promise<'done' | 'exists' | 'too-many'> {
  for (;;) {
    const counted = await countEntriesAfter(conn, stream, target);
    if (counted === null) return 'too-many';
    const [read] = await positionScript.run<[number, number?]>(conn, [stream], [group, target, counted.through, String(counted.entries), String(CATCH_UP_LIMIT), mode]);
    if (read === -2) return 'exists';
    if (read !== -1) return 'done';
    // A burst of appends while counting: count again.
  }
}

/** The entries after `after` and the newest of them (`through`), or null past LAG_COUNT_LIMIT. */
async function countEntriesAfter(conn: RedisConnection, stream: string, after: string): Promise<{ entries: number; through: string } | null> {
  const { lag, exact, last } = await countAfter(conn, stream, after, LAG_COUNT_LIMIT);
  return exact ? { entries: lag, through: last } : null;
}

async function countedLag(conn: RedisConnection, stream: string, after: string): Promise<number | null> {
  const { lag, exact } = await countAfter(conn, stream, after, LAG_COUNT_LIMIT);
  return exact ? lag : null;
}

async function groupExists(conn: RedisConnection, stream: string, group: string): Promise<boolean> {
  const [type, reply] = await conn.pipeline([['TYPE', stream], ['XINFO', 'GROUPS', stream]]);
  if (type === 'none' || reply instanceof Error) return false;
  return (reply as unknown[]).map(pairs).some((g) => String(g.name) === group);
}

function checkGroupName(group: unknown): void {
  if (typeof group !== 'string' || group.length === 0 || /\s/.test(group)) throw new InvalidOptionError('group', group, 'a non-empty name without spaces');
}

function noGroup(stream: string, group: string): SluiceError {
  return new SluiceError('ERR_NO_GROUP', `Group \`${group}\` does not exist on \`${stream}\`: check its name with \`sluice groups ${stream}\``);
}

