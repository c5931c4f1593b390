import type { RedisConnection } from '../redis/connection.js';
import { LuaScript } from '../redis/lua-script.js';
import { pairs } from '../stream/stream-info.js';

const deleteIdleConsumer = new LuaScript('delete-idle-consumer-1.lua');

/**
 * Removes the group's consumers that hold nothing pending and were idle at least `minIdleMs`
 * (each check-and-delete is atomic). Resolves to the names removed.
 */
export async function removeIdleConsumers(conn: RedisConnection, stream: string, group: string, minIdleMs: number, keep: string): Promise<string[]> {
  const reply = await conn.command<unknown[]>(['XINFO', 'CONSUMERS', stream, group]);
  const removed: string[] = [];
  for (const consumer of reply.map(pairs)) {
    const name = String(consumer.name);
    if (name === keep || Number(consumer.pending) > 0 || Number(consumer.idle) < minIdleMs) continue;
    const done = await deleteIdleConsumer.run<number>(conn, [stream], [group, name, String(minIdleMs)], { retry: true });
    if (done === 1) removed.push(name);
  }
  return removed;
}
