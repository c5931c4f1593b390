import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect } from '../../src/index.js';
import { useRedis } from '../helpers/fixtures.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

const redis = useRedis({ appendonly: true });

test('a rate-limited worker goes on after redis-server is killed (SIGKILL) and restarted with its AOF: every event handled', { timeout: 60_000 }, async () => {
  const sluice = await connect({ url: redis.server.url });
  try {
    const stream = sluice.stream(`${uniquePrefix('rl-restart')}orders`);
    const ids = await stream.publishMany(Array.from({ length: 40 }, (_, n) => ({ n })));
    const handled = new Map<string, number>();
    const worker = stream.consume({ group: 'webhook', startFrom: '0', rateLimit: { max: 10, per: '500ms' } }, (event) => {
      handled.set(event.id, (handled.get(event.id) ?? 0) + 1);
    });
    // The outage is expected here: listened to, so it is not logged as a failure.
    worker.on('error', () => undefined);
    try {
      // The first burst is through and the limit holds the rest back: kill the server now.
      await waitFor(() => handled.size >= 12, { message: () => `${handled.size} handled before the kill` });
      assert.ok(handled.size < ids.length, 'the limit was still holding events back at the kill');
      await redis.server.kill('SIGKILL');
      await waitFor(() => !sluice.connection.isReady, { message: 'the client saw the server go' });
      await redis.server.start();

      await waitFor(() => handled.size === ids.length, { timeout: 30_000, message: () => `${handled.size} of ${ids.length} handled after the restart` });
      // At least once: an event whose ack was lost with the server may run again, none is lost.
      assert.deepEqual([...handled.keys()].sort(), [...ids].sort());
      await waitFor(async () => Number((await sluice.connection.command<[number]>(['XPENDING', stream.name, 'webhook']))[0]) === 0, {
        timeout: 10_000,
        message: 'every event acknowledged',
      });
    } finally {
      await worker.close();
    }
  } finally {
    await sluice.close();
  }
});
