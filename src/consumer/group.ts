import { RedisServerError } from '../errors.js';
import type { RedisConnection } from '../redis/connection.js';

/**
 * Creates the group if it does not exist (and the stream with it: MKSTREAM). Idempotent: a group
 * that exists already (BUSYGROUP) is left as it is. Resolves to true when it created the group.
 */
export async function ensureGroup(conn: RedisConnection, stream: string, group: string, startId: string): Promise<boolean> {
  try {
    await conn.command(['XGROUP', 'CREATE', stream, group, startId, 'MKSTREAM']);
    return true;
  } catch (error) {
    if (error instanceof RedisServerError && error.redisCode === 'BUSYGROUP') return false;
    throw error;
  }
}

/**
 * True when a read failed because the group is gone: NOGROUP, or UNBLOCKED, which Redis (7.0+)
 * gives a blocked XREADGROUP whose stream was deleted while it waited.
 */
export function isGroupLost(error: unknown): boolean {
  return error instanceof RedisServerError && (error.redisCode === 'NOGROUP' || error.redisCode === 'UNBLOCKED');
}

/** True for the error Redis gives when the group (or its stream) no longer exists. */
export function isNoGroup(error: unknown): boolean {
  return error instanceof RedisServerError && error.redisCode === 'NOGROUP';
}
