import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { BackpressureError, connect, NotConnectedError, TimeoutError, type ConnectOptions, type Sluice } from '../../src/index.js';
import { RedisConnection } from '../../src/redis/connection.js';
import { ping } from '../../src/redis/managed-server.js';
import { Publisher } from '../../src/stream/publisher.js';
import { startRedisServer, uniquePrefix, type RedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

// The producer's own bound: with Redis gone, a producer holds at most maxBuffered events, and
// every publish settles by its deadline with a typed error: nothing piles up, nothing hangs.
let server: RedisServer;
const open: Array<{ close(): Promise<void> }> = [];

before(async () => {
  server = await startRedisServer();
});

after(async () => {
  await server?.close();
});

beforeEach(async () => {
  // A failed test may have left the server stopped.
  if (!(await ping(server.port, 200))) await server.start();
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((o) => o.close().catch(() => undefined)));
});

async function sluiceFor(options: ConnectOptions): Promise<Sluice> {
  const sluice = await connect({ url: server.url, ...options });
  open.push(sluice);
  return sluice;
}

interface Outcome {
  error: unknown;
  /** ms from the call to the rejection */
  after: number;
}

/** Calls `publish` and records when and how it failed (it must fail). */
function outcome(publish: () => Promise<string>): Promise<Outcome> {
  const started = Date.now();
  return publish().then(
    (id) => assert.fail(`expected the publish to fail, it stored ${id}`),
    (error: unknown) => ({ error, after: Date.now() - started }),
  );
}

const TIMEOUT = 2000;

describe('producer buffer', () => {
  test("maxBuffered 10, onFull 'reject', Redis stopped: the 11th publish is refused at once; the 10 fail at their deadline", async () => {
    const sluice = await sluiceFor({ publisher: { maxBuffered: 10, onFull: 'reject' }, commandTimeout: '2s' });
    const stream = sluice.stream(`${uniquePrefix('buf')}reject`);
    await stream.publish({ n: 'warm' });
    await server.stop();
    const buffered = Array.from({ length: 10 }, (_, n) => outcome(() => stream.publish({ n })));
    const refused = await outcome(() => stream.publish({ n: 'eleventh' }));
    assert.ok(refused.error instanceof BackpressureError, String(refused.error));
    assert.equal(refused.error.code, 'ERR_BACKPRESSURE');
    assert.ok(refused.error.retryAfterMs > 0);
    assert.match(refused.error.message, /buffer is full \(10 events/);
    assert.ok(refused.after < 100, `refused after ${refused.after} ms`);

    for (const { error, after } of await Promise.all(buffered)) {
      assert.ok(error instanceof NotConnectedError, String(error));
      assert.ok(after >= TIMEOUT - 20 && after < TIMEOUT + 700, `failed after ${after} ms`);
    }
    // The slots are free again once they failed: with Redis back, publishing goes on.
    await server.start();
    await stream.publish({ n: 'after' });
  });

  test("maxBuffered 10, onFull 'block', Redis stopped: callers past the bound wait, and every publish fails by its deadline", async () => {
    const sluice = await sluiceFor({ publisher: { maxBuffered: 10, onFull: 'block' }, commandTimeout: '2s' });
    const stream = sluice.stream(`${uniquePrefix('buf')}block`);
    await stream.publish({ n: 'warm' });
    await server.stop();
    const first = Date.now();
    const buffered = Array.from({ length: 10 }, (_, n) => outcome(() => stream.publish({ n })));
    // Five more, later: they wait for room, and the buffered ten free theirs (failing at their
    // deadline) before these callers' own deadline; that must not restart their timeout.
    await waitFor(() => Date.now() - first >= 300, { interval: 5 });
    const waiting = Array.from({ length: 5 }, (_, n) => outcome(() => stream.publish({ n: 10 + n })));
    const results = await Promise.all([...buffered, ...waiting]);
    for (const { error, after } of results) {
      assert.ok(error instanceof TimeoutError || error instanceof NotConnectedError, String(error));
      assert.ok(after >= TIMEOUT - 20 && after < TIMEOUT + 700, `failed after ${after} ms`);
    }
  });

  test('memory stays bounded: the buffered count never exceeds maxBuffered while Redis is down; all go out once it is back', async () => {
    const conn = await RedisConnection.open({ url: server.url, commandTimeoutMs: 10_000, connectTimeoutMs: 1000 });
    const publisher = new Publisher(conn, 10_000, { maxBuffered: 10 });
    open.push({ close: () => publisher.close() }, conn);
    const name = `${uniquePrefix('buf')}bounded`;
    await publisher.send(['XADD', name, '*', 'n', 'warm']);
    await server.stop();
    let most = 0;
    const sample = setInterval(() => (most = Math.max(most, publisher.buffered)), 1);
    try {
      const sent = Array.from({ length: 200 }, (_, n) => {
        const promise = publisher.send(['XADD', name, '*', 'n', String(n)]);
        most = Math.max(most, publisher.buffered);
        return promise;
      });
      assert.equal(publisher.buffered, 10, 'ten held, the other callers wait for room');
      await server.start();
      const ids = await Promise.all(sent);
      assert.equal(new Set(ids).size, 200);
      assert.ok(most <= 10, `at most 10 buffered, saw ${most}`);
      assert.equal(publisher.buffered, 0);
      const fields = (await server.cli('XRANGE', name, '-', '+')).split('\n').filter((_, i) => i % 3 === 2);
      // (This server keeps no AOF: the restart dropped `warm`.)
      assert.deepEqual(fields, Array.from({ length: 200 }, (_, n) => String(n)), 'all stored, in call order');
    } finally {
      clearInterval(sample);
    }
  });
});
