import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { describe, test } from 'node:test';
import { pairs } from '../../src/stream/stream-info.js';
import { pendingCount } from '../helpers/pending.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useSluice } from '../helpers/sluice-fixture.js';
import { blockedInXread } from '../helpers/streams.js';
import { waitFor } from '../helpers/wait.js';
import { closeAfterEach, delay, gate } from './helpers.js';

const redis = useSluice();
const track = closeAfterEach();

function orders(count: number, from = 0) {
  return Array.from({ length: count }, (_, i) => ({ order_id: String(from + i) }));
}

async function groupNames(stream: string): Promise<string[]> {
  return (await redis.sluice.connection.command<unknown[]>(['XINFO', 'GROUPS', stream])).map((g) => String(pairs(g).name));
}

async function consumers(stream: string, group: string): Promise<Array<{ name: string; pending: number; idle: number }>> {
  const reply = await redis.sluice.connection.command<unknown[]>(['XINFO', 'CONSUMERS', stream, group]);
  return reply.map(pairs).map((c) => ({ name: String(c.name), pending: Number(c.pending), idle: Number(c.idle) }));
}

/** Calls of a command (INFO commandstats), `xinfo|consumers` for a subcommand. */
async function commandCalls(command: string): Promise<number> {
  const stats = await redis.server.cli('INFO', 'commandstats');
  const line = stats.split('\n').find((l) => l.startsWith(`cmdstat_${command}:`));
  return Number(/calls=(\d+)/.exec(line ?? '')?.[1] ?? 0);
}

describe('consumer groups', () => {
  test('several groups on one stream each see every event, independently, and a read() tailer beside them too', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('groups')}orders`);
    const total = 300;
    const slowGroupGate = gate();
    const seen = { billing: [] as string[], shipping: [] as string[], analytics: [] as string[] };
    const workers = (Object.keys(seen) as Array<keyof typeof seen>).map((group) =>
      track(
        stream.consume({ group, block: 50, concurrency: 8 }, async (event) => {
          // analytics is stuck until the others are done: they must not wait for it.
          if (group === 'analytics') await slowGroupGate.promise;
          else await delay(Math.random() * 2);
          seen[group].push(event.id);
        }),
      ),
    );
    await Promise.all(workers.map((w) => w.ready));
    const controller = new AbortController();
    const tailed: string[] = [];
    const tail = (async () => {
      for await (const event of stream.read({ from: '$', block: 50, signal: controller.signal })) {
        tailed.push(event.id);
        if (tailed.length === total) break;
      }
    })();
    await waitFor(() => blockedInXread(redis.server), { message: 'the tailer waits for new events' });
    const published = await stream.publishMany(orders(total));

    await waitFor(() => seen.billing.length === total && seen.shipping.length === total, {
      timeout: 10_000,
      message: () => `billing ${seen.billing.length}, shipping ${seen.shipping.length}`,
    });
    assert.equal(seen.analytics.length, 0, 'the stuck group has processed nothing yet');
    slowGroupGate.open();
    await waitFor(() => seen.analytics.length === total, { timeout: 10_000, message: () => `analytics ${seen.analytics.length}` });
    await tail;
    controller.abort();
    for (const [group, ids] of Object.entries(seen)) {
      assert.deepEqual([...ids].sort(), [...published].sort(), `${group} saw every event once`);
      assert.equal(await pendingCount(redis.sluice, stream.name, group), 0);
    }
    assert.deepEqual(tailed, published, 'the tailer saw every event, in order');
    assert.deepEqual((await groupNames(stream.name)).sort(), ['analytics', 'billing', 'shipping']);
  });

  test('group creation is idempotent: two workers starting on the same new group share its events', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('groups')}orders`);
    const seen: string[] = [];
    const handler = async (event: { id: string }) => {
      await delay(1);
      seen.push(event.id);
    };
    const a = track(stream.consume({ group: 'billing', startFrom: '0', block: 50, concurrency: 4 }, handler));
    const b = track(stream.consume({ group: 'billing', startFrom: '0', block: 50, concurrency: 4 }, handler));
    await Promise.all([a.ready, b.ready]);
    assert.notEqual(a.consumer, b.consumer);
    const published = await stream.publishMany(orders(100));
    await waitFor(() => seen.length >= 100, { message: () => `${seen.length} of 100` });
    await a.idle();
    assert.deepEqual(seen.sort(), [...published].sort(), 'each event once across the two');
    assert.deepEqual(await groupNames(stream.name), ['billing']);
  });

  test("startFrom '0' replays the stream; '$' (the default) sees only new events; an existing group keeps its position", async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('groups')}orders`);
    const old = await stream.publishMany(orders(3));
    const replay: string[] = [];
    const tail: string[] = [];
    const replayWorker = track(stream.consume({ group: 'replay', startFrom: '0', block: 50 }, (e) => void replay.push(e.id)));
    const tailWorker = track(stream.consume({ group: 'tail', block: 50 }, (e) => void tail.push(e.id)));
    await Promise.all([replayWorker.ready, tailWorker.ready]);
    const fresh = await stream.publishMany(orders(2, 3));
    await waitFor(() => replay.length === 5 && tail.length === 2);
    await replayWorker.idle();
    await tailWorker.idle();
    assert.deepEqual(replay, [...old, ...fresh]);
    assert.deepEqual(tail, fresh);
    await replayWorker.close();
    // The group exists: '0' does not rewind it.
    const again: string[] = [];
    const later = track(stream.consume({ group: 'replay', startFrom: '0', block: 50 }, (e) => void again.push(e.id)));
    await later.ready;
    const last = await stream.publish({ order_id: 'last' });
    await waitFor(() => again.length > 0);
    await later.idle();
    assert.deepEqual(again, [last]);
  });

  test('a group lost with its stream (DEL) is re-created and the worker goes on, reporting an error, not looping', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('groups')}orders`);
    const seen: string[] = [];
    const errors: string[] = [];
    const worker = track(
      stream.consume({ group: 'billing', block: 200, claimIdle: 90 }, (event) => {
        seen.push(event.fields.order_id as string);
      }),
    );
    worker.on('error', ({ context }) => errors.push(context));
    await worker.ready;
    await stream.publish({ order_id: 'before' });
    await waitFor(() => seen.length === 1);
    assert.equal(await redis.server.cli('DEL', stream.name), '1');
    await waitFor(() => errors.length > 0, { message: 'the loss is reported' });
    await waitFor(async () => (await groupNames(stream.name).catch((): string[] => [])).includes('billing'), { message: 'the group is re-created' });
    await stream.publishMany([{ order_id: 'after-1' }, { order_id: 'after-2' }]);
    await waitFor(() => seen.length === 3, { message: () => `processed ${seen.join(', ')}` });
    await worker.idle();
    assert.deepEqual(seen, ['before', 'after-1', 'after-2']);
    assert.ok(errors.some((context) => /lost/.test(context)), `reported as a lost group: ${errors.join('; ')}`);
    assert.ok(errors.length <= 3, `a few errors, not a loop: ${errors.join('; ')}`);
  });

  test('default consumer names are stable for the process and unique per worker', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('groups')}orders`);
    const a = track(stream.consume({ group: 'billing', block: 50 }, () => undefined));
    const b = track(stream.consume({ group: 'billing', block: 50 }, () => undefined));
    const shape = new RegExp(`^${hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${process.pid}:\\d+$`);
    assert.match(a.consumer, shape);
    assert.match(b.consumer, shape);
    assert.notEqual(a.consumer, b.consumer);
  });
});

describe('idle consumers', () => {
  test('idle consumers with nothing pending are removed; one holding pending entries never is', async () => {
    const name = `${uniquePrefix('idlec')}orders`;
    const stream = redis.sluice.stream(name);
    await redis.server.cli('XGROUP', 'CREATE', name, 'billing', '$', 'MKSTREAM');
    await redis.server.cli('XGROUP', 'CREATECONSUMER', name, 'billing', 'gone-empty');
    const held = [await redis.server.cli('XADD', name, '*', 'n', '1'), await redis.server.cli('XADD', name, '*', 'n', '2')];
    await redis.server.cli('XREADGROUP', 'GROUP', 'billing', 'gone-holding', 'COUNT', '2', 'STREAMS', name, '>');
    const seen: string[] = [];
    const worker = track(
      stream.consume({ group: 'billing', consumer: 'tidy', block: 50, claimIdle: 60, removeIdleConsumers: 200 }, (event) => void seen.push(event.id)),
    );
    // Paused, the worker reclaims nothing, so gone-holding keeps its entries; housekeeping goes on.
    worker.pause();
    await waitFor(async () => !(await consumers(name, 'billing')).some((c) => c.name === 'gone-empty'), {
      timeout: 5000,
      message: 'the idle, empty consumer is removed',
    });
    // Several more housekeeping passes: each lists the consumers first.
    const calls = await commandCalls('xinfo|consumers');
    await waitFor(async () => (await commandCalls('xinfo|consumers')) >= calls + 5, { timeout: 5000 });
    const holding = (await consumers(name, 'billing')).find((c) => c.name === 'gone-holding');
    assert.ok(holding, 'the consumer with pending entries is still there');
    assert.equal(holding.pending, 2);
    assert.ok(holding.idle >= 200, `it is idle long enough to be removed otherwise (${holding.idle} ms)`);

    // Once its entries are reclaimed and processed, it holds nothing and goes too.
    worker.resume();
    await waitFor(async () => !(await consumers(name, 'billing')).some((c) => c.name === 'gone-holding'), {
      timeout: 5000,
      message: 'the emptied consumer is removed',
    });
    assert.deepEqual(seen.sort(), held.sort());
    assert.deepEqual((await consumers(name, 'billing')).map((c) => c.name), ['tidy']);
  });
});
