import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { idTime, RedisServerError } from '../../src/index.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useSluice } from '../helpers/sluice-fixture.js';

const redis = useSluice();

describe('info', () => {
  test('length, first and last IDs and times, memory', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('info')}orders`);
    const ids = await stream.publishMany(Array.from({ length: 7 }, (_, i) => ({ n: i })));
    const info = await stream.info();
    assert.equal(info.stream, stream.name);
    assert.equal(info.exists, true);
    assert.equal(info.length, 7);
    assert.equal(info.firstId, ids[0]);
    assert.equal(info.lastId, ids[6]);
    assert.equal(info.firstTime, idTime(ids[0] as string));
    assert.equal(info.lastTime, idTime(ids[6] as string));
    assert.equal(info.lastGeneratedId, ids[6]);
    assert.ok(info.memoryBytes > 0, `memoryBytes ${info.memoryBytes}`);
    assert.deepEqual(info.groups, []);
  });

  test('a missing stream is exists: false', async () => {
    const info = await redis.sluice.stream(`${uniquePrefix('info')}missing`).info();
    assert.deepEqual(info, {
      stream: info.stream,
      exists: false,
      length: 0,
      firstId: null,
      lastId: null,
      firstTime: null,
      lastTime: null,
      lastGeneratedId: null,
      memoryBytes: 0,
      groups: [],
    });
  });

  test('an emptied stream keeps its last generated ID', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('info')}emptied`);
    const ids = await stream.publishMany([{ n: 1 }, { n: 2 }]);
    await stream.trim({ maxLen: 0, exact: true });
    const info = await stream.info();
    assert.equal(info.exists, true);
    assert.equal(info.length, 0);
    assert.equal(info.firstId, null);
    assert.equal(info.lastId, null);
    assert.equal(info.lastGeneratedId, ids[1]);
  });

  test('groups created by redis-cli show with lag, pending and consumers', async () => {
    const key = `${uniquePrefix('info')}orders`;
    const stream = redis.sluice.stream(key);
    await stream.publishMany(Array.from({ length: 5 }, (_, i) => ({ n: i })));
    await redis.server.cli('XGROUP', 'CREATE', key, 'g', '0');

    let [group] = (await stream.info()).groups;
    assert.equal(group?.name, 'g');
    assert.deepEqual(group?.consumers, []);
    assert.equal(group?.pending, 0);
    assert.equal(group?.lastDeliveredId, '0-0');
    assert.equal(group?.lag, 5, 'lag equals the length for a group created at 0');

    const delivered = JSON.parse(await redis.server.cli('--json', 'XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '2', 'STREAMS', key, '>')) as Record<string, Array<[string, string[]]>>;
    const deliveredIds = (delivered[key] ?? []).map(([id]) => id);
    assert.equal(deliveredIds.length, 2);

    [group] = (await stream.info()).groups;
    assert.equal(group?.name, 'g');
    assert.equal(group?.pending, 2);
    assert.equal(group?.lastDeliveredId, deliveredIds[1]);
    assert.equal(group?.entriesRead, 2);
    assert.equal(group?.lag, 3);
    assert.equal(group?.consumers.length, 1);
    const [consumer] = group?.consumers ?? [];
    assert.equal(consumer?.name, 'c');
    assert.equal(consumer?.pending, 2);
    assert.ok(Number.isInteger(consumer?.idleMs) && (consumer?.idleMs ?? -1) >= 0);
  });

  test('several groups, in name order as Redis lists them', async () => {
    const key = `${uniquePrefix('info')}orders`;
    const stream = redis.sluice.stream(key);
    await stream.publishMany([{ n: 1 }, { n: 2 }, { n: 3 }]);
    await redis.server.cli('XGROUP', 'CREATE', key, 'analytics', '0');
    await redis.server.cli('XGROUP', 'CREATE', key, 'billing', '$');
    const groups = (await stream.info()).groups;
    assert.deepEqual(groups.map((g) => [g.name, g.lag]), [['analytics', 3], ['billing', 0]]);
  });

  test('sluice.streams() lists the stream keys matching a pattern, sorted, and nothing else', async () => {
    const prefix = uniquePrefix('info');
    await redis.sluice.stream(`${prefix}b`).publish({ n: 1 });
    await redis.sluice.stream(`${prefix}a`).publish({ n: 1 });
    await redis.server.cli('SET', `${prefix}text`, 'not a stream');
    await redis.server.cli('HSET', `${prefix}hash`, 'f', 'v');
    assert.deepEqual(await redis.sluice.streams(`${prefix}*`), [`${prefix}a`, `${prefix}b`]);
    assert.deepEqual(await redis.sluice.streams(`${prefix}none*`), []);
  });

  test('a key holding another type is a RedisServerError WRONGTYPE', async () => {
    const key = `${uniquePrefix('info')}text`;
    await redis.server.cli('SET', key, 'hello');
    await assert.rejects(redis.sluice.stream(key).info(), (error: unknown) => error instanceof RedisServerError && error.redisCode === 'WRONGTYPE' && error.code === 'ERR_REDIS');
  });
});
