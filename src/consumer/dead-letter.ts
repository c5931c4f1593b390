import { LuaScript } from '../redis/lua-script.js';
import type { RedisConnection } from '../redis/connection.js';

const deadLetterScript = new LuaScript('dead-letter-2.lua');

export interface DeadLetterRequest {
  stream: string;
  deadLetter: string;
  group: string;
  consumer: string;
  id: string;
  reason: string;
  error: string;
  deliveryCount: number;
}

/**
 * Moves one entry to the dead-letter stream and acknowledges it, in one atomic step (Lua).
 * Resolves to the dead-letter entry's ID, or undefined when the entry was no longer pending
 * for the group (another consumer already took care of it).
 */
export async function deadLetterEntry(conn: RedisConnection, request: DeadLetterRequest, maxLen = 0): Promise<string | undefined> {
  const id = await deadLetterScript.run<string | null>(
    conn,
    [request.stream, request.deadLetter],
    [
      request.group,
      request.id,
      request.reason,
      request.error.slice(0, 2000),
      String(request.deliveryCount),
      request.consumer,
      String(Date.now()),
      String(maxLen),
    ],
    // Safe to repeat: a second run finds the entry no longer pending and writes nothing.
    { retry: true },
  );
  return id ?? undefined;
}
