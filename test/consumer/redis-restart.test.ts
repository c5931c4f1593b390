import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pendingCount } from '../helpers/pending.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useSluice } from '../helpers/sluice-fixture.js';
import { waitFor } from '../helpers/wait.js';
import { closeAfterEach, delay } from './helpers.js';

const redis = useSluice({ redis: { appendonly: true } });
const track = closeAfterEach();

function orders(count: number, from = 0) {
  return Array.from({ length: count }, (_, i) => ({ order_id: String(from + i), status: 'pending' }));
}

describe('Redis restarting', () => {
  test('redis-server restarted (AOF) mid-run: every event is processed, none lost, nothing left pending', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('restart')}orders`);
    const published = await stream.publishMany(orders(2000));
    const seen = new Set<string>();
    const errors: string[] = [];
    const worker = track(
      stream.consume({ group: 'billing', startFrom: '0', concurrency: 16, batchSize: 50, block: 100, claimIdle: 500, backoff: { initial: 20 } }, async (event) => {
        await delay(5);
        seen.add(event.id);
      }),
    );
    worker.on('error', ({ context }) => errors.push(context));
    await waitFor(() => seen.size >= 200, { message: () => `processed ${seen.size} before the restart` });
    const seenBeforeStop = seen.size;
    await redis.server.stop();
    assert.ok(seenBeforeStop < published.length, 'the restart happens mid-run');
    // While Redis is down the worker says so on its error event (and does not crash).
    await waitFor(() => errors.length > 0, { timeout: 10_000, message: 'the outage was reported on the worker’s error event' });
    await redis.server.start();
    // Events published after the restart are processed too.
    published.push(...(await stream.publishMany(orders(200, 2000))));

    await waitFor(() => seen.size === published.length, {
      timeout: 30_000,
      message: () => `processed ${seen.size} of ${published.length}`,
    });
    await waitFor(async () => (await pendingCount(redis.sluice, stream.name, 'billing')) === 0, { timeout: 10_000, message: 'nothing left pending' });
    assert.deepEqual([...seen].sort(), [...published].sort(), 'every published event was processed');
    await worker.idle();
  });
});
