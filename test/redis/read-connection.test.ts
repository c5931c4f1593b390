import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClosedError, NotConnectedError, RedisServerError, TimeoutError } from '../../src/errors.js';
import { ReadConnection } from '../../src/redis/read-connection.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { beforeInOrder, useRedis } from '../helpers/fixtures.js';
import { clientList } from '../helpers/streams.js';

const redis = useRedis({ appendonly: true });

beforeInOrder(async () => {
  // A user of its own, to log in with a user name and password.
  await redis.server.cli('ACL', 'SETUSER', 'reader', 'on', '>pw', '~*', '&*', '+@all');
});

function open(name: string, url = redis.server.url): Promise<ReadConnection> {
  return ReadConnection.open({ url, connectTimeoutMs: 2000, commandTimeoutMs: 2000, clientName: name });
}

describe('ReadConnection', () => {
  test('logs in (AUTH, CLIENT SETNAME), reads a stream group batch, acks, maps error replies', async () => {
    const key = `${uniquePrefix('read')}orders`;
    const conn = await open('sluice:test:reader', redis.server.url.replace('redis://', 'redis://reader:pw@'));
    try {
      assert.ok((await clientList(redis.server)).some((line) => line.includes(' name=sluice:test:reader ')));
      await conn.send(['XGROUP', 'CREATE', key, 'g', '0', 'MKSTREAM'], Date.now() + 1000);
      for (let i = 0; i < 3; i++) await conn.send(['XADD', key, `${i + 1}-0`, 'order_id', String(i), 'note', 'café ☕, a longer UTF-8 value'], Date.now() + 1000);
      // Pipelined: both written in one go, answered in order.
      const [read, empty] = await Promise.all([
        conn.send(['XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '10', 'STREAMS', key, '>'], Date.now() + 1000),
        conn.send(['XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '10', 'STREAMS', key, '>'], Date.now() + 1000),
      ]);
      assert.deepEqual(read, [
        [key, [1, 2, 3].map((n) => [`${n}-0`, ['order_id', String(n - 1), 'note', 'café ☕, a longer UTF-8 value']])],
      ]);
      assert.equal(empty, null);
      assert.equal(await conn.send(['XACK', key, 'g', '1-0', '2-0', '3-0'], Date.now() + 1000), 3);
      await assert.rejects(conn.send(['XREADGROUP', 'GROUP', 'nope', 'c', 'STREAMS', key, '>'], Date.now() + 1000), (error: unknown) => {
        assert.ok(error instanceof RedisServerError);
        assert.equal(error.redisCode, 'NOGROUP');
        return true;
      });
    } finally {
      conn.destroy();
    }
  });

  test('a wrong password fails the connection with the server’s reason', async () => {
    await assert.rejects(open('sluice:test:bad', redis.server.url.replace('redis://', 'redis://reader:wrong@')), (error: unknown) => {
      assert.ok(error instanceof NotConnectedError);
      assert.match(error.message, /WRONGPASS/);
      return true;
    });
  });

  test('destroy() interrupts a blocking read at once', async () => {
    const key = `${uniquePrefix('read')}orders`;
    const conn = await open('sluice:test:blocked');
    await conn.send(['XGROUP', 'CREATE', key, 'g', '$', 'MKSTREAM'], Date.now() + 1000);
    const read = conn.send(['XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '10000', 'STREAMS', key, '>'], Date.now() + 12_000);
    const t0 = performance.now();
    setTimeout(() => conn.destroy(), 50);
    await assert.rejects(read, ClosedError);
    assert.ok(performance.now() - t0 < 1000);
    await assert.rejects(conn.send(['PING'], Date.now() + 1000), ClosedError);
  });

  test('a command past its deadline fails with TimeoutError and drops the connection', async () => {
    const key = `${uniquePrefix('read')}orders`;
    const conn = await open('sluice:test:deadline');
    try {
      await conn.send(['XGROUP', 'CREATE', key, 'g', '$', 'MKSTREAM'], Date.now() + 1000);
      await assert.rejects(conn.send(['XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '5000', 'STREAMS', key, '>'], Date.now() + 100), TimeoutError);
      assert.equal(conn.isReady, false);
      await conn.waitReady(Date.now() + 2000);
      assert.equal(await conn.send(['PING'], Date.now() + 1000), 'PONG');
    } finally {
      conn.destroy();
    }
  });

  test('redis-server restarted: commands in flight fail with NotConnectedError, none is sent while down, waitReady reconnects', async () => {
    const key = `${uniquePrefix('read')}orders`;
    const conn = await open('sluice:test:restart');
    try {
      await conn.send(['XGROUP', 'CREATE', key, 'g', '$', 'MKSTREAM'], Date.now() + 1000);
      const read = conn.send(['XREADGROUP', 'GROUP', 'g', 'c', 'BLOCK', '10000', 'STREAMS', key, '>'], Date.now() + 12_000);
      const failed = assert.rejects(read, NotConnectedError);
      await redis.server.stop();
      await failed;
      await assert.rejects(conn.send(['PING'], Date.now() + 1000), NotConnectedError);
      await assert.rejects(conn.waitReady(Date.now() + 200), NotConnectedError);
      await redis.server.start();
      await conn.waitReady(Date.now() + 10_000);
      // The group survived in the AOF.
      await conn.send(['XADD', key, '*', 'n', '1'], Date.now() + 1000);
      const reply = (await conn.send(['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', key, '>'], Date.now() + 1000)) as unknown[];
      assert.equal(reply.length, 1);
    } finally {
      conn.destroy();
    }
  });
});
