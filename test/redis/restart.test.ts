import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { connect, type FieldsEvent } from '../../src/index.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useRedis } from '../helpers/fixtures.js';
import { blockedInXread, cliRange } from '../helpers/streams.js';
import { waitFor } from '../helpers/wait.js';

const redis = useRedis({ appendonly: true });

describe('redis-server restart (AOF)', () => {
  test('publish and a blocking read recover after redis-server is restarted', { timeout: 60_000 }, async () => {
    const sluice = await connect({ url: redis.server.url });
    const controller = new AbortController();
    let loop: Promise<void> | undefined;
    try {
      const key = `${uniquePrefix('restart')}orders`;
      const stream = sluice.stream(key);
      const beforeIds = await stream.publishMany(Array.from({ length: 200 }, (_, i) => ({ n: i, phase: 'before' })));

      // A tail that runs across the restart.
      const seen: FieldsEvent[] = [];
      let readError: unknown;
      loop = (async () => {
        for await (const event of stream.read({ from: '0', block: 1000, signal: controller.signal })) seen.push(event);
      })().catch((error: unknown) => {
        readError = error;
      });
      await waitFor(() => seen.length === beforeIds.length, { message: () => `the reader caught up (${seen.length})` });
      await waitFor(() => blockedInXread(redis.server), { message: 'the reader is blocked in XREAD' });

      let reconnects = 0;
      sluice.connection.client.on('reconnecting', () => reconnects++);
      await redis.server.stop();
      await waitFor(() => !sluice.connection.isReady, { message: 'the client saw the server go' });
      let settled = false;
      const duringOutage = stream.publish({ n: 'outage', phase: 'during' });
      duringOutage.then(
        () => (settled = true),
        () => (settled = true),
      );
      // Let a wrongly failing publish show: two more reconnect attempts fail while it is pending.
      const attempts = reconnects;
      await waitFor(() => reconnects >= attempts + 2, { message: 'the client retried the connection twice' });
      assert.equal(settled, false, 'the publish waits for the server instead of failing');

      await redis.server.start();
      const outageId = await duringOutage;
      const afterIds = await stream.publishMany([{ n: 'a', phase: 'after' }, { n: 'b', phase: 'after' }, { n: 'c', phase: 'after' }]);
      const allIds = [...beforeIds, outageId, ...afterIds];

      // Every event survived (AOF) and nothing was stored twice.
      const stored = await cliRange(redis.server, key);
      assert.deepEqual(stored.map(([id]) => id), allIds);
      assert.deepEqual(stored[0]?.[1], ['n', '0', 'phase', 'before']);
      assert.deepEqual(stored[beforeIds.length]?.[1], ['n', 'outage', 'phase', 'during']);

      // The tail continued: it sees the events published during and after the outage, once each.
      await waitFor(() => seen.length >= allIds.length, { timeout: 20_000, message: () => `the reader resumed (${seen.length}/${allIds.length})` });
      assert.equal(readError, undefined);
      assert.deepEqual(seen.map((e) => e.id), allIds);
      assert.deepEqual(seen.slice(-3).map((e) => e.fields.n), ['a', 'b', 'c']);
    } finally {
      controller.abort();
      await loop;
      await sluice.close();
    }
  });
});
