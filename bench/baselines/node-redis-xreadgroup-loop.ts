import { createClient } from '@redis/client';
import { measure, type Sample } from '../lib/stats.js';

export const NODE_REDIS_READ_COUNT = 1000;

/**
 * What a user writes by hand with node-redis to drain a group: `XREADGROUP GROUP g c COUNT 1000
 * STREAMS key >`, a no-op handler per entry, then one `XACK key g id…` for the batch, one after
 * the other until a read comes back empty. The typed `xReadGroup` / `xAck` of a plain
 * `createClient({ url })`, as node-redis's docs show them. Connecting and closing are not timed.
 * Returns the entries read.
 */
export async function nodeRedisXreadgroupLoop(options: { url: string; key: string; group: string; consumer: string }): Promise<Sample & { entries: number }> {
  const client = createClient({ url: options.url });
  client.on('error', () => undefined);
  await client.connect();
  let entries = 0;
  const handler = (_message: Record<string, string>) => undefined;
  try {
    const sample = await measure(async () => {
      for (;;) {
        const reply = (await client.xReadGroup(options.group, options.consumer, { key: options.key, id: '>' }, { COUNT: NODE_REDIS_READ_COUNT })) as Array<{
          name: string;
          messages: Array<{ id: string; message: Record<string, string> }>;
        }> | null;
        const messages = reply?.[0]?.messages ?? [];
        if (messages.length === 0) return;
        const ids: string[] = [];
        for (const { id, message } of messages) {
          handler(message);
          ids.push(id);
        }
        await client.xAck(options.key, options.group, ids);
        entries += messages.length;
      }
    });
    return { ...sample, entries };
  } finally {
    await client.close();
  }
}

export const NODE_REDIS_LOOP_METHOD = `node-redis: sequential loop of xReadGroup(COUNT ${NODE_REDIS_READ_COUNT}, '>') + no-op handler per entry + one xAck(ids…) per batch, until a read is empty`;
