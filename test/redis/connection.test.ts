import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { connect, NotConnectedError, TimeoutError, type Sluice } from '../../src/index.js';
import { freePort } from '../../src/redis/managed-server.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useRedis } from '../helpers/fixtures.js';
import { blockedInXread, clientList, drainInBackground } from '../helpers/streams.js';
import { waitFor } from '../helpers/wait.js';

const redis = useRedis();

/** NotConnectedError or TimeoutError, with its code: what an operation gives when Redis is away. */
function unreachable(error: unknown): boolean {
  assert.ok(error instanceof NotConnectedError || error instanceof TimeoutError, `expected a typed error, got ${String(error)}`);
  assert.equal(error.code, error instanceof NotConnectedError ? 'ERR_NOT_CONNECTED' : 'ERR_TIMEOUT');
  return true;
}

/** Asserts the promise rejects as unreachable, after about `timeoutMs` (the deadline), never much later. */
async function failsAtDeadline(promise: Promise<unknown>, timeoutMs: number, slackMs = 1000): Promise<void> {
  const started = Date.now();
  await assert.rejects(promise, unreachable);
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= timeoutMs - 50, `kept trying until the deadline: failed after ${elapsed} ms`);
  assert.ok(elapsed < timeoutMs + slackMs, `failed ${elapsed} ms after the start (deadline ${timeoutMs} ms)`);
}

describe('connection', () => {
  test('with the server stopped, operations fail with typed errors at the commandTimeout, then work again', { timeout: 30_000 }, async () => {
    const sluice: Sluice = await connect({ url: redis.server.url, commandTimeout: 300 });
    try {
      const stream = sluice.stream(`${uniquePrefix('conn')}orders`);
      await stream.publish({ n: 1 });
      await redis.server.stop();

      await failsAtDeadline(stream.publish({ n: 2 }), 300);
      await failsAtDeadline(stream.publishMany([{ n: 3 }, { n: 4 }]), 300);
      await failsAtDeadline(stream.range(), 300);
      await failsAtDeadline(stream.info(), 300);
      const read = (async () => {
        for await (const _event of stream.read({ from: '0' })) {
          // a non-blocking read of a stream on a stopped server fails at the deadline
        }
      })();
      await failsAtDeadline(read, 300);

      await redis.server.start();
      await waitFor(() => sluice.connection.isReady, { message: 'the client reconnected' });
      await stream.publish({ n: 5 });
      // This server runs without AOF: only what was written after the restart is there.
      assert.deepEqual((await stream.range()).map((e) => e.fields.n), ['5']);
    } finally {
      await sluice.close();
    }
  });

  test('a blocking read fails with a typed error when Redis stays away past block + commandTimeout', { timeout: 30_000 }, async () => {
    const sluice = await connect({ url: redis.server.url, commandTimeout: 300 });
    try {
      const stream = sluice.stream(`${uniquePrefix('conn')}orders`);
      // Nothing is published: the read only ends by failing.
      const loop = drainInBackground(stream.read({ block: 200 }));
      await waitFor(() => blockedInXread(redis.server), { message: 'the reader is blocked' });
      const stopped = Date.now();
      await redis.server.stop();
      const failure = await loop;
      const elapsed = Date.now() - stopped;
      assert.ok(unreachable(failure));
      assert.ok(elapsed < 200 + 300 + 1000, `failed ${elapsed} ms after the stop`);
    } finally {
      await redis.server.start();
      await sluice.close();
    }
  });

  test('connect() to a port with nothing listening rejects with NotConnectedError at the connectTimeout', { timeout: 30_000 }, async () => {
    const port = await freePort();
    const started = Date.now();
    await assert.rejects(connect({ url: `redis://127.0.0.1:${port}`, connectTimeout: 500 }), (error: unknown) => {
      assert.ok(error instanceof NotConnectedError);
      assert.equal(error.code, 'ERR_NOT_CONNECTED');
      assert.match(error.message, new RegExp(`redis://127\\.0\\.0\\.1:${port}`));
      assert.match(error.message, /ECONNREFUSED/);
      return true;
    });
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 1500, `rejected after ${elapsed} ms`);
  });

  test('the password never shows in a connection error', { timeout: 30_000 }, async () => {
    const port = await freePort();
    await assert.rejects(connect({ url: `redis://app:s3cret-pw@127.0.0.1:${port}`, connectTimeout: 200 }), (error: unknown) => {
      assert.ok(error instanceof NotConnectedError);
      assert.ok(!error.message.includes('s3cret-pw'), error.message);
      return true;
    });
  });

  test('close() closes the connection; a closed Sluice refuses new streams', async () => {
    const clients = (await clientList(redis.server)).length;
    const sluice = await connect({ url: redis.server.url });
    await waitFor(async () => (await clientList(redis.server)).length === clients + 1, { message: 'connected' });
    await sluice.close();
    await sluice.close();
    await waitFor(async () => (await clientList(redis.server)).length === clients, { message: 'disconnected' });
    assert.throws(() => sluice.stream('events:orders'), (error: unknown) => error instanceof Error && (error as { code?: string }).code === 'ERR_CLOSED');
  });
});
