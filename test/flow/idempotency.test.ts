import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { idTime, InvalidOptionError } from '../../src/index.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useSluice } from '../helpers/sluice-fixture.js';
import { cliRange } from '../helpers/streams.js';
import { waitFor } from '../helpers/wait.js';
import { calls } from './helpers.js';

// DEBUG SLEEP holds the server still while a test lines up what it does next.
const redis = useSluice({ redis: { args: ['--enable-debug-command', 'local'] } });

/** The `$idk` of every entry of a stream, in order. */
async function keysOf(stream: string): Promise<string[]> {
  return (await cliRange(redis.server, stream)).map(([, fields]) => fields[fields.indexOf('$idk') + 1] as string);
}

/** The CLIENT LIST ID of the publisher's own connection. */
async function publisherClientId(): Promise<string> {
  const line = (await redis.server.cli('CLIENT', 'LIST')).split('\n').find((l) => /name=\S+:publisher /.test(l));
  const id = /\bid=(\d+)/.exec(line ?? '')?.[1];
  assert.ok(id, 'the publisher is connected');
  return id;
}

/** True while redis-server's main thread sleeps in DEBUG SLEEP (its kernel wait channel, Linux). */
async function serverSleeping(): Promise<boolean> {
  return /nanosleep/.test(await readFile(`/proc/${redis.server.pid}/wchan`, 'utf8'));
}

describe('idempotent publish', () => {
  test('the same key twice gives the same ID and one entry; different keys, two', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('idk')}orders`);
    const first = await stream.publish({ order_id: '1' }, { idempotencyKey: 'order-1' });
    const again = await stream.publish({ order_id: '1' }, { idempotencyKey: 'order-1' });
    assert.equal(again, first);
    assert.deepEqual(await keysOf(stream.name), ['order-1']);
    const other = await stream.publish({ order_id: '2' }, { idempotencyKey: 'order-2' });
    assert.notEqual(other, first);
    assert.deepEqual(await keysOf(stream.name), ['order-1', 'order-2']);
    // Stored as redis-cli shows it: the event's fields, then `$idk`.
    assert.deepEqual((await cliRange(redis.server, stream.name))[0], [first, ['order_id', '1', '$idk', 'order-1']]);
  });

  test('publishOnce says which call was the duplicate, also within one batch, and refuses a bad key', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('idk')}once`);
    const first = await stream.publishOnce({ order_id: '1' }, 'order-1');
    assert.equal(first.duplicate, false);
    assert.deepEqual(await stream.publishOnce({ order_id: '1' }, 'order-1'), { id: first.id, duplicate: true });
    // Sent together: the first in call order writes, the second finds its key.
    const [a, b] = await Promise.all([stream.publishOnce({ n: 1 }, 'k'), stream.publishOnce({ n: 2 }, 'k', { type: 'note' })]);
    assert.deepEqual([a.duplicate, b.duplicate, b.id], [false, true, a.id]);
    assert.deepEqual(await keysOf(stream.name), ['order-1', 'k']);
    await assert.rejects(stream.publishOnce({ order_id: '3' }, ''), (error: unknown) => error instanceof InvalidOptionError && /idempotencyKey/.test(error.message));
    assert.deepEqual(await keysOf(stream.name), ['order-1', 'k']);
  });

  test('the same key twice in one batch: written once, both calls get its ID', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('idk')}batch`);
    const ids = await Promise.all([
      stream.publish({ n: 1 }, { idempotencyKey: 'k' }),
      stream.publish({ n: 2 }, { idempotencyKey: 'k' }),
      stream.publish({ n: 3 }, { idempotencyKey: 'other' }),
    ]);
    assert.equal(ids[0], ids[1]);
    assert.deepEqual(await keysOf(stream.name), ['k', 'other']);
  });

  test('publishMany with a string key keys each event K:0, K:1…: the same call again stores nothing', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('idk')}many`);
    const batch = [{ n: 1 }, { n: 2 }, { n: 3 }];
    const ids = await stream.publishMany(batch, { idempotencyKey: 'import-7', type: 'row' });
    assert.equal(new Set(ids).size, 3, 'three entries, not one');
    assert.deepEqual(await keysOf(stream.name), ['import-7:0', 'import-7:1', 'import-7:2']);
    assert.deepEqual(await stream.publishMany(batch, { idempotencyKey: 'import-7', type: 'row' }), ids);
    assert.equal(Number(await redis.server.cli('XLEN', stream.name)), 3);
    // The shared options still apply to every event.
    assert.deepEqual((await cliRange(redis.server, stream.name))[2], [ids[2], ['n', '3', '$type', 'row', '$idk', 'import-7:2']]);
  });

  test('publishMany with a key function keys each event on its fields; a repeated key is stored once', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('idk')}manyfn`);
    const orders = [{ order_id: 'a' }, { order_id: 'b' }, { order_id: 'a' }];
    const ids = await stream.publishMany(orders, { idempotencyKey: (order) => `order-${order.order_id}` });
    assert.equal(ids[2], ids[0]);
    assert.notEqual(ids[1], ids[0]);
    assert.deepEqual(await keysOf(stream.name), ['order-a', 'order-b']);
  });

  test('publishMany refuses a bad key before writing any event', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('idk')}manybad`);
    await assert.rejects(stream.publishMany([{ n: 1 }], { idempotencyKey: '' }), (error: unknown) => error instanceof InvalidOptionError && /idempotencyKey/.test(error.message));
    await assert.rejects(
      stream.publishMany([{ n: 1 }, { n: 2 }], { idempotencyKey: (event) => (event.n === 2 ? '' : 'ok') }),
      (error: unknown) => error instanceof InvalidOptionError && /idempotencyKey\(events\[1\]\)/.test(error.message),
    );
    await assert.rejects(
      stream.publishMany([{ n: 1 }], { idempotencyKey: 42 as unknown as string }),
      (error: unknown) => error instanceof InvalidOptionError && /42/.test(error.message) && /non-empty string, or a function/.test(error.message),
    );
    assert.equal(Number(await redis.server.cli('XLEN', stream.name)), 0);
  });

  test('publishManyOnce says which events were stored already', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('idk')}manyonce`);
    const first = await stream.publishManyOnce([{ n: 1 }, { n: 2 }], 'req-1');
    assert.deepEqual(
      first.map((r) => r.duplicate),
      [false, false],
    );
    // A retried request with one more event: the first two are duplicates with their IDs.
    const retried = await stream.publishManyOnce([{ n: 1 }, { n: 2 }, { n: 3 }], 'req-1');
    assert.deepEqual(
      retried.map((r) => r.duplicate),
      [true, true, false],
    );
    assert.deepEqual(
      retried.slice(0, 2).map((r) => r.id),
      first.map((r) => r.id),
    );
    const byField = await stream.publishManyOnce([{ n: 4 }, { n: 1 }], (event) => `n-${event.n}`);
    assert.deepEqual(
      byField.map((r) => r.duplicate),
      [false, false],
    );
    assert.deepEqual(await keysOf(stream.name), ['req-1:0', 'req-1:1', 'req-1:2', 'n-4', 'n-1']);
    await assert.rejects(stream.publishManyOnce([{ n: 1 }], undefined as unknown as string), (error: unknown) => error instanceof InvalidOptionError);
  });

  test("the stream's maxLen applies to idempotent publishes too", async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('idk')}capped`, { retention: { maxLen: 3, exact: true } });
    for (let n = 0; n < 6; n++) await stream.publish({ n }, { idempotencyKey: `k${n}` });
    assert.deepEqual(await keysOf(stream.name), ['k3', 'k4', 'k5']);
  });

  test('a reply lost with a killed connection: the publish is retried after the reconnect and the stream holds one entry', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('idk')}killed`);
    await stream.publish({ n: 'warm' }, { idempotencyKey: 'warm' }); // connection open, script loaded
    const killer = await redis.sluice.connection.duplicate('killer');
    const sleeper = await redis.sluice.connection.duplicate('sleeper');
    try {
      const victim = await publisherClientId();
      const [evalshaBefore, xaddBefore] = [await calls(redis.server, 'evalsha'), await calls(redis.server, 'xadd')];
      // While the server sleeps, the publish and then the CLIENT KILL queue up on their sockets.
      // When it wakes it runs them in that order, in one round: the EVALSHA executes, and the
      // kill drops its connection before the reply is written.
      const slept = sleeper.command(['DEBUG', 'SLEEP', '0.5']);
      await waitFor(serverSleeping, { interval: 1, message: 'redis-server sleeps' });
      const published = stream.publish({ order_id: '12345' }, { idempotencyKey: 'order-12345' });
      // The publisher writes its batch on the next turns of the event loop.
      for (let turn = 0; turn < 3; turn++) await new Promise((resolve) => setImmediate(resolve));
      const killed = killer.command<number>(['CLIENT', 'KILL', 'ID', victim]);
      await slept;
      assert.equal(await killed, 1);

      const id = await published;
      assert.notEqual(await publisherClientId(), victim, 'the publisher reconnected');
      assert.deepEqual(await keysOf(stream.name), ['warm', 'order-12345'], 'one entry for the key');
      assert.equal((await cliRange(redis.server, stream.name))[1]?.[0], id, 'the publish resolved to the stored ID');
      // The script ran twice (the lost reply, then the retry) and added once: the retry was deduped.
      assert.equal((await calls(redis.server, 'evalsha')) - evalshaBefore, 2);
      assert.equal((await calls(redis.server, 'xadd')) - xaddBefore, 1);
    } finally {
      await Promise.all([killer.close(), sleeper.close()]);
    }
  });

  test('after SCRIPT FLUSH, idempotent publishes reload the script and still dedupe', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('idk')}flushed`);
    const first = await stream.publish({ n: 1 }, { idempotencyKey: 'a' });
    assert.equal(await redis.server.cli('SCRIPT', 'FLUSH'), 'OK');
    const loads = await calls(redis.server, 'script|load');
    const [again, second] = await Promise.all([stream.publish({ n: 1 }, { idempotencyKey: 'a' }), stream.publish({ n: 2 }, { idempotencyKey: 'b' })]);
    assert.equal(again, first);
    assert.notEqual(second, first);
    assert.ok((await calls(redis.server, 'script|load')) > loads, 'the script was loaded again');
    assert.deepEqual(await keysOf(stream.name), ['a', 'b']);
  });

  test('a batch that meets NOSCRIPT is written in call order, loading the script once', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('idk')}flushed-batch`);
    await stream.publish({ n: 'warm' }, { idempotencyKey: 'warm' });
    assert.equal(await redis.server.cli('SCRIPT', 'FLUSH'), 'OK');
    const loads = await calls(redis.server, 'script|load');
    const keys = Array.from({ length: 50 }, (_, n) => `order-${n}`);
    const ids = await Promise.all(keys.map((key, n) => stream.publish({ n }, { idempotencyKey: key })));
    assert.deepEqual(await keysOf(stream.name), ['warm', ...keys]);
    assert.deepEqual((await cliRange(redis.server, stream.name)).slice(1).map(([id]) => id), ids);
    assert.equal((await calls(redis.server, 'script|load')) - loads, 1);
  });

  test('the window by count: with maxKeys 2 the oldest key is forgotten after two more', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('idk')}count`, { idempotency: { maxKeys: 2 } });
    const k1 = await stream.publish({ n: 1 }, { idempotencyKey: 'k1' });
    await stream.publish({ n: 2 }, { idempotencyKey: 'k2' });
    await stream.publish({ n: 3 }, { idempotencyKey: 'k3' });
    const k1Again = await stream.publish({ n: 1 }, { idempotencyKey: 'k1' });
    assert.notEqual(k1Again, k1, 'k1 was forgotten: written again');
    assert.deepEqual(await keysOf(stream.name), ['k1', 'k2', 'k3', 'k1']);
    // k3 and k1 are the two remembered now.
    await stream.publish({ n: 3 }, { idempotencyKey: 'k3' });
    assert.deepEqual(await keysOf(stream.name), ['k1', 'k2', 'k3', 'k1']);
  });

  test('the window by count forgets the oldest key even when several keys were seen in the same millisecond', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('idk')}count-batch`, { idempotency: { maxKeys: 2 } });
    // One batch: very likely the same server millisecond. Insertion order differs from key order.
    await Promise.all(['c', 'b', 'a'].map((key) => stream.publish({ key }, { idempotencyKey: key })));
    await stream.publish({ key: 'a' }, { idempotencyKey: 'a' });
    await stream.publish({ key: 'b' }, { idempotencyKey: 'b' });
    assert.deepEqual(await keysOf(stream.name), ['c', 'b', 'a'], 'b and a, the newest two, are remembered');
    await stream.publish({ key: 'c' }, { idempotencyKey: 'c' });
    assert.deepEqual(await keysOf(stream.name), ['c', 'b', 'a', 'c'], 'c, the oldest, was forgotten');
  });

  test('the window by time: once it has passed, the same key writes again', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('idk')}time`, { idempotency: { window: '200ms' } });
    const first = await stream.publish({ n: 1 }, { idempotencyKey: 'k' });
    assert.equal(await stream.publish({ n: 1 }, { idempotencyKey: 'k' }), first);
    await waitFor(() => Date.now() > idTime(first) + 200, { message: 'the window passed' });
    const second = await stream.publish({ n: 1 }, { idempotencyKey: 'k' });
    assert.notEqual(second, first);
    assert.deepEqual(await keysOf(stream.name), ['k', 'k']);
    assert.equal(await stream.publish({ n: 1 }, { idempotencyKey: 'k' }), second, 'remembered again for a new window');
  });
});
