import { createClient } from '@redis/client';
import { measure, type Sample } from '../lib/stats.js';

export const NODE_REDIS_BATCH = 1000;
export const NODE_REDIS_IN_FLIGHT = 4;

/**
 * What a user writes by hand with node-redis to publish fast (the guide's pipelining step):
 * `client.multi()` + 1000 `xAdd` + `execAsPipeline()`, with 4 such batches in flight.
 * A plain `createClient({ url })`, as its docs show: pipelines pay no per-command timer there.
 * Connecting and closing are not timed.
 */
export async function nodeRedisXaddPipeline(options: { url: string; key: string; events: number }): Promise<Sample> {
  const client = createClient({ url: options.url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    let next = 0;
    const worker = async () => {
      while (next < options.events) {
        const count = Math.min(NODE_REDIS_BATCH, options.events - next);
        next += count;
        const multi = client.multi();
        for (let i = 0; i < count; i++) {
          multi.xAdd(options.key, '*', { order_id: '12345', customer_id: '67890', amount: '99.99', status: 'pending' });
        }
        await multi.execAsPipeline();
      }
    };
    return await measure(async () => {
      await Promise.all(Array.from({ length: NODE_REDIS_IN_FLIGHT }, worker));
    });
  } finally {
    await client.close();
  }
}
