import { createClient } from '@redis/client';

const newClient = (url: string) => createClient({ url });
export type NodeRedisClient = ReturnType<typeof newClient>;

/** A plain `createClient({ url })`, connected, as node-redis's docs show it. */
export async function connectNodeRedis(url: string): Promise<NodeRedisClient> {
  const client = newClient(url);
  // Without a listener an `error` (a dropped connection) would crash the process.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

export const NODE_REDIS_WORKER_COUNT = 1000;
export const NODE_REDIS_WORKER_BLOCK_MS = 2000;

/**
 * What a user writes by hand with node-redis to follow a group while events keep coming: a
 * sequential loop of `XREADGROUP GROUP g c COUNT 1000 BLOCK 2000 STREAMS key >`, the handler per
 * entry, then one `XACK key g id…` for the batch (awaited), until `done()` says so (checked
 * after each acked batch, and at least every BLOCK). Returns the entries read.
 */
export async function nodeRedisGroupWorker(
  client: NodeRedisClient,
  options: { key: string; group: string; consumer: string; handler: (message: Record<string, string>) => void; done: () => boolean },
): Promise<number> {
  let entries = 0;
  while (!options.done()) {
    const reply = (await client.xReadGroup(
      options.group,
      options.consumer,
      { key: options.key, id: '>' },
      { COUNT: NODE_REDIS_WORKER_COUNT, BLOCK: NODE_REDIS_WORKER_BLOCK_MS },
    )) as Array<{ name: string; messages: Array<{ id: string; message: Record<string, string> }> }> | null;
    const messages = reply?.[0]?.messages ?? [];
    if (messages.length === 0) continue;
    const ids: string[] = [];
    for (const { id, message } of messages) {
      options.handler(message);
      ids.push(id);
    }
    await client.xAck(options.key, options.group, ids);
    entries += messages.length;
  }
  return entries;
}

export const NODE_REDIS_WORKER_METHOD = `node-redis: sequential loop of xReadGroup(COUNT ${NODE_REDIS_WORKER_COUNT}, BLOCK ${NODE_REDIS_WORKER_BLOCK_MS}, '>') + handler per entry + one awaited xAck(ids…) per batch`;
