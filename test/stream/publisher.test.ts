import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { promisify } from 'node:util';
import {
  BackpressureError,
  ClosedError,
  compareIds,
  connect,
  NotConnectedError,
  RedisServerError,
  TimeoutError,
  type ConnectOptions,
  type Sluice,
} from '../../src/index.js';
import { ping } from '../../src/redis/managed-server.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useRedis } from '../helpers/fixtures.js';
import { startTlsRedisServer } from '../helpers/tls-redis.js';
import { waitFor } from '../helpers/wait.js';

const run = promisify(execFile);

// AOF fsynced on every write: an XADD Redis confirmed survives kill -9, so the fault test can
// demand that every resolved ID is still there.
const redis = useRedis({ appendonly: true, appendfsync: 'always' });
const open: Sluice[] = [];

beforeEach(async () => {
  // A failed test may have left the server stopped.
  if (!(await ping(redis.server.port, 200))) await redis.server.start();
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close().catch(() => undefined)));
});

async function sluiceFor(options: ConnectOptions = {}): Promise<Sluice> {
  const sluice = await connect({ url: redis.server.url, ...options });
  open.push(sluice);
  return sluice;
}

function increasing(ids: string[]): boolean {
  return ids.every((id, i) => i === 0 || compareIds(ids[i - 1] as string, id) < 0);
}

/** The CLIENT LIST line of the publisher's own connection, if it is connected. */
async function publisherClient(): Promise<string | undefined> {
  return (await redis.server.cli('CLIENT', 'LIST')).split('\n').find((line) => /name=\S+:publisher /.test(line));
}

describe('publisher', () => {
  test('concurrent publishes are batched (at most maxBatch per batch) on one connection of its own, IDs in call order', async () => {
    const sluice = await sluiceFor({ publisher: { maxBatch: 100 } });
    const stream = sluice.stream(`${uniquePrefix('batch')}s`);
    const ids = await Promise.all(Array.from({ length: 1050 }, (_, i) => stream.publish({ n: i })));
    assert.equal(new Set(ids).size, 1050);
    assert.ok(increasing(ids), 'IDs increase in call order');
    assert.equal(await redis.server.cli('XLEN', stream.name), '1050');
    assert.match((await publisherClient()) ?? '', / cmd=xadd /);
  });

  test('publishes made while Redis is down are sent once it is back, in call order', async () => {
    const sluice = await sluiceFor();
    const stream = sluice.stream(`${uniquePrefix('down')}s`);
    await stream.publish({ n: 'before' });
    await redis.server.stop();
    const pending = Array.from({ length: 200 }, (_, i) => stream.publish({ n: i }));
    await redis.server.start();
    const ids = await Promise.all(pending);
    assert.ok(increasing(ids));
    assert.equal(await redis.server.cli('XLEN', stream.name), '201');
  });

  test('a connection lost with XADDs in flight: they are sent again on a new one, all resolve, in call order', async () => {
    const sluice = await sluiceFor();
    const stream = sluice.stream(`${uniquePrefix('lost')}s`);
    await stream.publish({ n: 'warm' });
    // Paused, the server holds the XADDs unexecuted, so killing the connection loses them all.
    await redis.server.cli('CLIENT', 'PAUSE', '10000', 'WRITE');
    try {
      const pending = Array.from({ length: 500 }, (_, i) => stream.publish({ n: i }));
      const line = await waitFor(async () => {
        const client = await publisherClient();
        return client && / flags=b /.test(client) ? client : undefined;
      }, { message: 'the publisher connection blocked on the paused server' });
      const id = /\bid=(\d+)/.exec(line ?? '')?.[1] as string;
      assert.equal(await redis.server.cli('CLIENT', 'KILL', 'ID', id), '1');
      await waitFor(async () => (await publisherClient())?.startsWith(`id=${id} `) === false, { message: 'a new publisher connection' });
      await redis.server.cli('CLIENT', 'UNPAUSE');
      const ids = await Promise.all(pending);
      assert.ok(increasing(ids), 'IDs increase in call order');
      assert.equal(await redis.server.cli('XLEN', stream.name), '501');
      // Sent again from the bytes first written: each event intact, under the ID it resolved to.
      const stored = (await stream.range()).slice(1);
      assert.deepEqual(stored.map((e) => e.id), ids);
      assert.deepEqual(stored.map((e) => e.fields), Array.from({ length: 500 }, (_, i) => ({ n: String(i) })));
    } finally {
      await redis.server.cli('CLIENT', 'UNPAUSE');
    }
  });

  test('kill -9 while publishing: every publish resolves, and every resolved ID is in the stream after the restart', async () => {
    const sluice = await sluiceFor({ commandTimeout: '20s' });
    const stream = sluice.stream(`${uniquePrefix('kill')}s`);
    const total = 6000;
    let started = 0;
    const resolved: string[] = [];
    const caller = async () => {
      while (started < total) {
        started++;
        resolved.push(await stream.publish({ n: started }));
      }
    };
    const callers = Promise.all(Array.from({ length: 200 }, caller));
    await waitFor(() => resolved.length >= 1000, { message: '1000 publishes confirmed' });
    await redis.server.kill('SIGKILL');
    await redis.server.start();
    await callers;
    assert.equal(resolved.length, total);
    const stored = new Set((await redis.server.cli('XRANGE', stream.name, '-', '+')).split('\n').filter((l) => /^\d+-\d+$/.test(l)));
    const missing = resolved.filter((id) => !stored.has(id));
    assert.deepEqual(missing, [], 'confirmed events are durable');
    // At-least-once: an XADD whose reply died with the server may be stored twice.
    assert.ok(stored.size >= total);
  });

  test("buffer full with onFull 'reject': BackpressureError at once; the buffered events go out after the restart", async () => {
    const sluice = await sluiceFor({ publisher: { maxBuffered: 5, onFull: 'reject' } });
    const stream = sluice.stream(`${uniquePrefix('reject')}s`);
    await redis.server.stop();
    const buffered = Array.from({ length: 5 }, (_, i) => stream.publish({ n: i }));
    await assert.rejects(stream.publish({ n: 'sixth' }), (error: unknown) => {
      assert.ok(error instanceof BackpressureError);
      assert.equal(error.code, 'ERR_BACKPRESSURE');
      assert.ok(error.retryAfterMs > 0);
      assert.match(error.message, /buffer is full \(5 events/);
      return true;
    });
    await redis.server.start();
    assert.ok(increasing(await Promise.all(buffered)));
    assert.equal(await redis.server.cli('XLEN', stream.name), '5');
  });

  test("buffer full with onFull 'block': callers wait for room, then go out in call order", async () => {
    const sluice = await sluiceFor({ publisher: { maxBuffered: 3, maxWaiting: 7 } });
    const stream = sluice.stream(`${uniquePrefix('block')}s`);
    await redis.server.stop();
    const pending = Array.from({ length: 10 }, (_, i) => stream.publish({ n: i }));
    await redis.server.start();
    const ids = await Promise.all(pending);
    assert.ok(increasing(ids));
    const fields = (await redis.server.cli('XRANGE', stream.name, '-', '+')).split('\n').filter((_, i) => i % 3 === 2);
    assert.deepEqual(fields, Array.from({ length: 10 }, (_, i) => String(i)));
  });

  test('Redis down past the timeout: the publish fails with NotConnectedError, after the timeout', async () => {
    const sluice = await sluiceFor({ commandTimeout: 400 });
    const stream = sluice.stream(`${uniquePrefix('deadline')}s`);
    await redis.server.stop();
    const start = Date.now();
    await assert.rejects(stream.publish({ n: 1 }), (error: unknown) => {
      assert.ok(error instanceof NotConnectedError, String(error));
      assert.match(error.message, /Cannot reach Redis at redis:\/\/127\.0\.0\.1/);
      return true;
    });
    assert.ok(Date.now() - start >= 390, `failed after ${Date.now() - start} ms`);
  });

  test('Redis not answering past the timeout: TimeoutError, also for a caller waiting for room', async () => {
    const sluice = await sluiceFor({ commandTimeout: 300, publisher: { maxBuffered: 1 } });
    const stream = sluice.stream(`${uniquePrefix('paused')}s`);
    await stream.publish({ n: 'warm' });
    await redis.server.cli('CLIENT', 'PAUSE', '5000', 'WRITE');
    try {
      const results = await Promise.allSettled([stream.publish({ n: 1 }), stream.publish({ n: 2 })]);
      for (const result of results) {
        assert.equal(result.status, 'rejected');
        assert.ok(result.reason instanceof TimeoutError, String(result.reason));
        assert.equal(result.reason.code, 'ERR_TIMEOUT');
      }
    } finally {
      await redis.server.cli('CLIENT', 'UNPAUSE');
    }
  });

  test('an XADD Redis refuses fails alone, with RedisServerError; the rest of its batch is written', async () => {
    const sluice = await sluiceFor();
    const prefix = uniquePrefix('refused');
    await redis.server.cli('SET', `${prefix}string`, 'x');
    const [bad, good] = await Promise.allSettled([sluice.stream(`${prefix}string`).publish({ n: 1 }), sluice.stream(`${prefix}s`).publish({ n: 2 })]);
    assert.equal(bad.status, 'rejected');
    assert.ok(bad.reason instanceof RedisServerError);
    assert.equal(bad.reason.redisCode, 'WRONGTYPE');
    assert.equal(good.status, 'fulfilled');
    assert.equal(await redis.server.cli('XLEN', `${prefix}s`), '1');
  });

  test('close waits for pending publishes, closes the publisher connection, then publishes fail with ClosedError', async () => {
    const sluice = await connect({ url: redis.server.url });
    const stream = sluice.stream(`${uniquePrefix('close')}s`);
    const pending = Array.from({ length: 300 }, (_, i) => stream.publish({ n: i }));
    await sluice.close();
    assert.equal((await Promise.all(pending)).length, 300);
    await assert.rejects(stream.publish({ n: 'late' }), ClosedError);
    await waitFor(async () => (await publisherClient()) === undefined, { message: 'the publisher connection closed' });
  });

  test('the ACL user, password and database of the URL are used by the publisher connection; a refused login fails clearly', async () => {
    const prefix = uniquePrefix('acl');
    const user = `pub${process.pid}`;
    await redis.server.cli('ACL', 'SETUSER', user, 'on', '>s3cret', '~*', '&*', '+@all');
    try {
      const url = `redis://${user}:s3cret@127.0.0.1:${redis.server.port}/2`;
      const sluice = await sluiceFor({ url, commandTimeout: 500 });
      await sluice.stream(`${prefix}s`).publish({ n: 1 });
      assert.equal(await redis.server.cli('-n', '2', 'XLEN', `${prefix}s`), '1');
      assert.equal(await redis.server.cli('XLEN', `${prefix}s`), '0');
      assert.match((await publisherClient()) ?? '', new RegExp(` db=2 .* user=${user} `));

      // The main connection stays logged in; the publisher's next connection is refused.
      await redis.server.cli('ACL', 'SETUSER', user, 'resetpass', '>changed');
      const id = /\bid=(\d+)/.exec((await publisherClient()) ?? '')?.[1] as string;
      assert.equal(await redis.server.cli('CLIENT', 'KILL', 'ID', id), '1');
      await assert.rejects(sluice.stream(`${prefix}s`).publish({ n: 2 }), (error: unknown) => {
        assert.ok(error instanceof NotConnectedError, String(error));
        assert.match(error.message, /WRONGPASS/);
        assert.ok(!error.message.includes('s3cret'), 'the password is not shown');
        return true;
      });
    } finally {
      await redis.server.cli('ACL', 'DELUSER', user);
    }
  });

  test('rediss:// URLs publish over TLS', async () => {
    const tls = await startTlsRedisServer();
    const dir = await mkdtemp(join(tmpdir(), 'sluice-tls-publish-'));
    try {
      // Trusting a certificate takes NODE_EXTRA_CA_CERTS, read at start: publish from a child process.
      const script = join(dir, 'publish.mjs');
      const index = new URL('../../src/index.js', import.meta.url).href;
      await writeFile(
        script,
        `import { connect } from ${JSON.stringify(index)};
const sluice = await connect({ url: process.argv[2], commandTimeout: 5000 });
const stream = sluice.stream('tls:orders');
const ids = await Promise.all([1, 2, 3].map((n) => stream.publish({ n })));
await sluice.close();
console.log(JSON.stringify(ids));`,
      );
      const { stdout } = await run(process.execPath, [script, tls.url], {
        env: { ...process.env, NODE_EXTRA_CA_CERTS: tls.certFile },
      });
      const ids = JSON.parse(stdout) as string[];
      assert.equal(ids.length, 3);
      assert.equal(await tls.server.cli('XLEN', 'tls:orders'), '3');
    } finally {
      await tls.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
