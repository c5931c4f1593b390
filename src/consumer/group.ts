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

/** True for the error Redis gives when the group (or its stream) no longer exists. */
export function isNoGroup(error: unknown): boolean {
  return error instanceof RedisServerError && error.redisCode === 'NOGROUP';
}
