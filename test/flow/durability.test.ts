import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { connect, DurabilityError, type Sluice } from '../../src/index.js';
import { startRedisServer, uniquePrefix, type RedisServer } from '../helpers/redis-server.js';
import { onCleanup, useRedis } from '../helpers/fixtures.js';
import { cliLength, cliRange } from '../helpers/streams.js';
import { waitFor } from '../helpers/wait.js';
import { calls, infoField } from './helpers.js';

// Redis 7.0 (the floor CI tests) has no WAITAOF: `fsync` is only possible where every write is
// fsynced before its reply (appendonly yes, appendfsync always), and must be refused elsewhere.
const everysec = useRedis({ appendonly: true, appendfsync: 'everysec' });
const always = useRedis({ appendonly: true, appendfsync: 'always' });
const open: Sluice[] = [];

onCleanup(() => Promise.all(open.map((s) => s.close())));

async function sluiceOn(server: RedisServer): Promise<Sluice> {
  const sluice = await connect({ url: server.url });
  open.push(sluice);
  return sluice;
}

function isDurabilityError(code: DurabilityError['code'], pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof DurabilityError, String(error));
    assert.equal(error.code, code);
    assert.match(error.message, pattern);
    return true;
  };
}

describe('durability', () => {
  test("'fsync' on a server with appendfsync everysec: DurabilityError ERR_DURABILITY_UNSUPPORTED, nothing written", async () => {
    const sluice = await sluiceOn(everysec.server);
    if ((await sluice.capabilities()).waitAof) return assert.fail('this test expects a server without WAITAOF (Redis 7.0)');
    const refused = isDurabilityError('ERR_DURABILITY_UNSUPPORTED', /appendonly yes with appendfsync always.*appendfsync everysec/);
    const stream = sluice.stream(`${uniquePrefix('dur')}fsync-stream`, { durability: 'fsync' });
    await assert.rejects(stream.publish({ n: 1 }), refused);
    await assert.rejects(stream.publishMany([{ n: 2 }, { n: 3 }]), refused);
    assert.equal(await everysec.server.cli('EXISTS', stream.name), '0', 'nothing was written');

    const plain = sluice.stream(`${uniquePrefix('dur')}fsync-publish`);
    await assert.rejects(plain.publish({ n: 1 }, { durability: 'fsync' }), refused);
    assert.equal(await everysec.server.cli('EXISTS', plain.name), '0');
    // The same stream without asking for it publishes as usual.
    await plain.publish({ n: 2 });
    assert.equal(await cliLength(everysec.server, plain.name), 1);
  });

  test("'fsync' is accepted with appendonly yes and appendfsync always (the stream's or one publish's)", async () => {
    const sluice = await sluiceOn(always.server);
    const stream = sluice.stream(`${uniquePrefix('dur')}fsync-ok`, { durability: 'fsync' });
    const ids = [await stream.publish({ n: 1 }), ...(await stream.publishMany([{ n: 2 }, { n: 3 }]))];
    const plain = sluice.stream(`${uniquePrefix('dur')}fsync-ok-publish`);
    const one = await plain.publish({ n: 4 }, { durability: 'fsync' });
    assert.deepEqual((await cliRange(always.server, stream.name)).map(([id]) => id), ids);
    assert.deepEqual((await cliRange(always.server, plain.name)).map(([id]) => id), [one]);
  });

  test("a refused 'fsync' is checked again on the next publish: the server's settings may have changed", async () => {
    const server = await startRedisServer({ appendonly: false });
    try {
      const sluice = await sluiceOn(server);
      const stream = sluice.stream(`${uniquePrefix('dur')}fsync-later`, { durability: 'fsync' });
      await assert.rejects(stream.publish({ n: 1 }), isDurabilityError('ERR_DURABILITY_UNSUPPORTED', /appendonly no/));
      await server.cli('CONFIG', 'SET', 'appendfsync', 'always');
      await server.cli('CONFIG', 'SET', 'appendonly', 'yes');
      await waitFor(async () => (await infoField(server, 'persistence', 'aof_rewrite_in_progress')) === '0', { message: 'AOF on' });
      const id = await stream.publish({ n: 2 });
      assert.deepEqual((await cliRange(server, stream.name)).map(([entry]) => entry), [id]);
    } finally {
      await server.close();
    }
  });

  test('{ replicas: 1 } with a real replica resolves, and the event is on the replica', async () => {
    // No delay before the first sync (diskless sync waits 5 s for more replicas by default).
    const primary = await startRedisServer({ args: ['--repl-diskless-sync-delay', '0'] });
    const replica = await startRedisServer({ args: ['--replicaof', '127.0.0.1', String(primary.port)] });
    try {
      await waitFor(async () => (await infoField(primary, 'replication', 'connected_slaves')) === '1', { message: 'the replica connected' });
      await waitFor(async () => /state=online/.test((await infoField(primary, 'replication', 'slave0')) ?? ''), { message: 'the replica is in sync' });
      const sluice = await sluiceOn(primary);
      const stream = sluice.stream(`${uniquePrefix('dur')}replicated`, { durability: { replicas: 1, timeout: '5s' } });
      const id = await stream.publish({ order_id: '12345' });
      // WAIT returned once the replica acknowledged it: it is there now, no waiting.
      assert.deepEqual(await cliRange(replica, stream.name), [[id, ['order_id', '12345']]]);

      // A batch waits for its replicas once (one WAIT after the batch's writes), with idempotency too.
      await stream.publish({ n: 'script loaded' }, { idempotencyKey: 'warm' });
      const waits = await calls(primary, 'wait');
      const ids = await Promise.all(Array.from({ length: 50 }, (_, n) => stream.publish({ n }, { idempotencyKey: `k${n % 40}` })));
      assert.equal((await calls(primary, 'wait')) - waits, 1);
      assert.equal(new Set(ids).size, 40);
      assert.equal(await cliLength(replica, stream.name), 42);
      // publishOnce through the WAIT follow-up: the duplicate flag comes from the script's reply.
      assert.deepEqual(await stream.publishOnce({ n: 0 }, 'k0'), { id: ids[0], duplicate: true });
      const fresh = await stream.publishOnce({ n: 'new' }, 'k-new');
      assert.equal(fresh.duplicate, false);
      assert.deepEqual((await cliRange(replica, stream.name)).at(-1)?.[0], fresh.id);

      const plain = sluice.stream(`${uniquePrefix('dur')}replicated-publish`);
      const one = await plain.publish({ n: 1 }, { durability: { replicas: 1 } });
      assert.deepEqual((await cliRange(replica, plain.name)).map(([entry]) => entry), [one]);
    } finally {
      await Promise.all([replica.close(), primary.close()]);
    }
  });

  test('{ replicas: 1 } with no replica: ERR_DURABILITY_TIMEOUT after the timeout, saying the event is stored, and it is', async () => {
    const sluice = await sluiceOn(everysec.server);
    const stream = sluice.stream(`${uniquePrefix('dur')}no-replica`, { durability: { replicas: 1, timeout: 100 } });
    const started = Date.now();
    const error = await stream.publish({ order_id: '12345' }).then(
      (id) => assert.fail(`resolved with ${id}`),
      (failure: unknown) => failure,
    );
    const elapsed = Date.now() - started;
    isDurabilityError('ERR_DURABILITY_TIMEOUT', /Only 0 of 1 replicas acknowledged within 100 ms; the event \S+ is stored on the primary but not yet replicated/)(error);
    assert.ok(elapsed >= 100 && elapsed < 1000, `failed after ${elapsed} ms`);
    const eventId = (error as DurabilityError).eventId;
    assert.deepEqual(await cliRange(everysec.server, stream.name), [[eventId, ['order_id', '12345']]], 'the event IS in the stream');

    // Per publish, on a stream without durability of its own.
    const plain = sluice.stream(`${uniquePrefix('dur')}no-replica-publish`);
    await assert.rejects(plain.publish({ n: 1 }, { durability: { replicas: 1, timeout: 50 } }), isDurabilityError('ERR_DURABILITY_TIMEOUT', /stored/));
    assert.equal(await cliLength(everysec.server, plain.name), 1);
  });
});
