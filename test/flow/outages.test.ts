import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect, RedisServerError, type Sluice } from '../../src/index.js';
import { startRedisServer, uniquePrefix, type RedisServer } from '../helpers/redis-server.js';
import { cliRange } from '../helpers/streams.js';
import { catchUp, createGroup, streamIds } from './helpers.js';

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
