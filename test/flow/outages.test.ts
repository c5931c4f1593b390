import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BackpressureError, connect, RedisServerError, type Sluice } from '../../src/index.js';
import { startRedisServer, uniquePrefix, type RedisServer } from '../helpers/redis-server.js';
import { cliRange } from '../helpers/streams.js';
import { waitFor } from '../helpers/wait.js';
import { catchUp, createGroup, streamIds } from './helpers.js';
import { OpenLoop } from './open-loop.js';

// A producer meets Redis restarting and Redis full: the first is waited out within the publish
// timeout, the second is a typed error, and neither loses or invents an event.
let restarting: RedisServer;
let full: RedisServer;
const open: Sluice[] = [];

before(async () => {
  [restarting, full] = await Promise.all([
    startRedisServer({ appendonly: true, appendfsync: 'always' }),
    startRedisServer({ args: ['--maxmemory', '2mb'] }),
  ]);
});

after(async () => {
  await Promise.all(open.map((s) => s.close()));
  await Promise.all([restarting?.close(), full?.close()]);
});

describe('outages', () => {
  test('publishes made while redis-server restarts (AOF) succeed within their timeout, guarded ones too', async () => {
    const sluice = await connect({ url: restarting.url, commandTimeout: '8s' });
    open.push(sluice);
    const name = `${uniquePrefix('out')}restart`;
    await createGroup(sluice.connection, name, 'billing', '$');
    const plain = sluice.stream(name);
    const guarded = sluice.stream(name, { backpressure: { maxLag: 1000, cacheFor: 0 }, idempotency: { window: '1h' } });
    const before = [await plain.publish({ n: 'before' }), await guarded.publish({ n: 'before-idk' }, { idempotencyKey: 'before' })];

    await restarting.stop();
    const started = Date.now();
    const during = [
      plain.publish({ n: 'during' }),
      guarded.publish({ n: 'during-idk' }, { idempotencyKey: 'during' }),
      // The dedupe state survived the restart (AOF): this one is a repeat, not a new event.
      guarded.publish({ n: 'before-idk' }, { idempotencyKey: 'before' }),
    ];
    await restarting.start();
    const ids = await Promise.all(during);
    assert.ok(Date.now() - started < 8000, 'within the publish timeout');
    assert.equal(ids[2], before[1], 'the repeated key resolved to the first publish');
    assert.deepEqual(await streamIds(sluice.connection, name), [...before, ids[0], ids[1]], 'every event once, in order');
    assert.equal((await catchUp(sluice.connection, name, 'billing')).length, 4);
  });

  test('redis-server killed (SIGKILL) and restarted (AOF) under an open loop of publishes: at most maxBuffered + maxWaiting held, the rest refused at once; every accepted event stored once, in call order', async () => {
    const sluice = await connect({ url: restarting.url, commandTimeout: '8s', publisher: { maxBuffered: 300, maxWaiting: 200 } });
    open.push(sluice);
    const name = `${uniquePrefix('out')}open-loop`;
    const stream = sluice.stream(name);
    // Awaited: nothing is in flight at the kill, so nothing can be stored twice by the resend.
    const warm = await stream.publish({ n: 'warm' });
    await restarting.kill('SIGKILL');

    const loop = new OpenLoop((n) => stream.publish({ n }));
    // One burst past the bound (300 held for the connection, 200 waiting, 500 refused), then
    // 50 calls every 5 ms through the restart.
    loop.burst(1000);
    loop.start(50, 5);
    try {
      await restarting.start();
      await waitFor(() => loop.ended('stored').length >= 2000, { timeout: 20_000, message: () => `${loop.ended('stored').length} stored` });
    } finally {
      await loop.stop();
    }
    assert.equal(loop.mostOutstanding, 500, 'the bound is reached, never passed');
    const stored = loop.ended('stored');
    const refused = loop.ended(BackpressureError);
    assert.equal(stored.length + refused.length, loop.calls.length, 'each call stored or refused: the outage was shorter than the timeout');
    assert.deepEqual(
      loop.calls.slice(0, 1000).map((c) => (c.id === undefined ? 'refused' : 'stored')),
      Array.from({ length: 1000 }, (_, n) => (n < 500 ? 'stored' : 'refused')),
      'of the first burst, the 500 within the bound were kept and stored, the others refused',
    );
    for (const call of refused) assert.ok((call.tookMs as number) < 100, `refused after ${call.tookMs} ms`);
    // Exactly the accepted events, each once, in call order, after the one before the kill (AOF).
    assert.deepEqual(await streamIds(sluice.connection, name), [warm, ...stored.map((c) => c.id)]);
    assert.deepEqual(
      (await cliRange(restarting, name)).map(([, fields]) => fields[1]),
      ['warm', ...stored.map((c) => String(c.n))],
    );
  });

  test('Redis full (maxmemory, noeviction): the publish rejects with ERR_REDIS_OOM, and every event confirmed before is there', async () => {
    const sluice = await connect({ url: full.url });
    open.push(sluice);
    const stream = sluice.stream(`${uniquePrefix('out')}oom`);
    const payload = 'x'.repeat(2048);
    const stored: string[] = [];
    let failure: unknown;
    for (let batch = 0; batch < 200 && failure === undefined; batch++) {
      const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => stream.publish({ n: batch * 20 + i, payload })));
      for (const result of results) {
        if (result.status === 'fulfilled') stored.push(result.value);
        else failure ??= result.reason;
      }
    }
    assert.ok(failure, 'Redis refused a write before 4000 events of 2 KB');
    assert.ok(failure instanceof RedisServerError, String(failure));
    assert.equal(failure.code, 'ERR_REDIS_OOM');
    assert.equal(failure.redisCode, 'OOM');
    assert.match(failure.message, /maxmemory/);
    assert.ok(stored.length > 0);
    // Nothing dropped silently, nothing extra: the stream holds exactly the confirmed events.
    assert.deepEqual(await streamIds(sluice.connection, stream.name), stored);

    // Right at the limit, freed buffers can let a write or two through again: shrink maxmemory
    // well below what is used, and every write is refused, idempotent ones (Lua) too.
    await full.cli('CONFIG', 'SET', 'maxmemory', '1mb');
    await assert.rejects(stream.publish({ n: 'more', payload }), (error: unknown) => error instanceof RedisServerError && error.code === 'ERR_REDIS_OOM');
    await assert.rejects(
      stream.publish({ n: 'more', payload }, { idempotencyKey: 'k' }),
      (error: unknown) => error instanceof RedisServerError && error.code === 'ERR_REDIS_OOM',
    );
    assert.equal((await streamIds(sluice.connection, stream.name)).length, stored.length);

    // Room again (here: the stream trimmed): publishing goes on.
    await sluice.connection.command(['XTRIM', stream.name, 'MAXLEN', '=', '0']);
    await full.cli('CONFIG', 'SET', 'maxmemory', '2mb');
    const id = await stream.publish({ n: 'after' }, { idempotencyKey: 'k' });
    assert.deepEqual((await cliRange(full, stream.name)).map(([entry]) => entry), [id]);
  });
});
