import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pendingCount } from '../helpers/pending.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { onCleanup } from '../helpers/fixtures.js';
import { useSluice } from '../helpers/sluice-fixture.js';
import { waitFor } from '../helpers/wait.js';
import { closeAfterEach, delay, nextEvent, pendingEntries, spawnFixtureWorker, type FixtureWorker } from './helpers.js';

const redis = useSluice();
const track = closeAfterEach();
const children = new Set<FixtureWorker>();

// Stacked after the fixture: the worker processes are killed before the Sluice and server close.
onCleanup(() => {
  for (const child of children) child.child.kill('SIGKILL');
});

function orders(count: number, from = 0) {
  return Array.from({ length: count }, (_, i) => ({ order_id: String(from + i), status: 'pending' }));
}

/** Starts a fixture worker process and waits until it holds `count` entries pending on its name. */
async function holdingProcess(stream: string, consumer: string, count: number): Promise<FixtureWorker> {
  const fixture = spawnFixtureWorker({ url: redis.server.url, stream, group: 'billing', consumer, mode: 'hang', concurrency: count });
  children.add(fixture);
  await fixture.ready;
  await waitFor(async () => fixture.holding.length === count && (await pendingEntries(redis.sluice, stream, 'billing', consumer)).length === count, {
    message: () => `the fixture worker holds ${count} entries (it printed ${fixture.holding.length})`,
  });
  return fixture;
}

async function kill(fixture: FixtureWorker): Promise<void> {
  process.kill(fixture.child.pid as number, 'SIGKILL');
  await fixture.exited;
  children.delete(fixture);
}

describe('reclaim', () => {
  test('kill -9 a consumer mid-batch: a survivor reclaims its entries and processes every event exactly once', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('reclaim')}orders`);
    const before = await stream.publishMany(orders(10));
    const doomed = await holdingProcess(stream.name, 'doomed', 10);
    assert.deepEqual(doomed.holding.sort(), [...before].sort());
    await kill(doomed);
    const afterCrash = await stream.publishMany(orders(5, 10));

    const seen = new Map<string, number>();
    const counts = new Map<string, number>();
    const reclaimed: string[] = [];
    const survivor = track(
      stream.consume({ group: 'billing', consumer: 'survivor', claimIdle: 300, block: 50, concurrency: 4 }, (event, ctx) => {
        seen.set(event.id, (seen.get(event.id) ?? 0) + 1);
        counts.set(event.id, ctx.deliveryCount);
      }),
    );
    survivor.on('reclaimed', ({ ids }) => reclaimed.push(...ids));
    await waitFor(() => seen.size === 15, { timeout: 10_000, message: () => `processed ${seen.size} of 15` });
    await survivor.idle();
    assert.deepEqual([...seen.keys()].sort(), [...before, ...afterCrash].sort());
    assert.ok([...seen.values()].every((n) => n === 1), 'each event processed once by the survivor');
    assert.deepEqual(reclaimed.sort(), [...before].sort());
    assert.ok(before.every((id) => counts.get(id) === 2), 'a reclaimed entry is on its second delivery');
    assert.equal(await pendingCount(redis.sluice, stream.name, 'billing'), 0);
  });

  test('a restarted consumer with the same name takes back all of its own pending entries, more than its concurrency', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('reclaim')}orders`);
    const ids = await stream.publishMany(orders(10));
    await kill(await holdingProcess(stream.name, 'pod-a', 10));

    const seen: string[] = [];
    // claimIdle far beyond the test's deadline: only the restart recovery can deliver them.
    const restarted = track(
      stream.consume({ group: 'billing', consumer: 'pod-a', claimIdle: 120_000, block: 50, concurrency: 2, batchSize: 2 }, async (event, ctx) => {
        assert.equal(ctx.deliveryCount, 2);
        await delay(5);
        seen.push(event.id);
      }),
    );
    await waitFor(() => seen.length >= 10, { timeout: 5000, message: () => `processed ${seen.length} of 10` });
    await waitFor(async () => (await pendingCount(redis.sluice, stream.name, 'billing')) === 0, { message: 'all acknowledged' });
    assert.equal(seen.length, 10, 'each once');
    assert.deepEqual([...seen].sort(), [...ids].sort());
    await restarted.close();
  });

  test('a poison event that crashes every worker taking it is dead-lettered once its deliveries exceed maxDeliveries', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('reclaim')}orders`);
    const id = await stream.publish({ order_id: 'poison', status: 'pending' });
    for (let run = 1; run <= 3; run++) {
      const fixture = spawnFixtureWorker({ url: redis.server.url, stream: stream.name, group: 'billing', consumer: `crash-${run}`, mode: 'crash', claimIdle: 100, maxDeliveries: 3 });
      children.add(fixture);
      await fixture.exited;
      children.delete(fixture);
      assert.deepEqual(fixture.holding, [id], `worker ${run} took the poison event and died`);
      const [entry] = await pendingEntries(redis.sluice, stream.name, 'billing');
      assert.equal(entry?.deliveries, run, 'the delivery count lives in Redis across crashes');
    }
    let calls = 0;
    const survivor = track(
      stream.consume({ group: 'billing', consumer: 'survivor', claimIdle: 100, block: 50, maxDeliveries: 3 }, () => {
        calls++;
      }),
    );
    const deadLettered = await nextEvent(survivor, 'dead-lettered');
    await survivor.idle();
    assert.equal(calls, 0, 'not run a fourth time: it already used up its deliveries');
    assert.equal(deadLettered.id, id);
    assert.equal(deadLettered.reason, 'max-deliveries');
    const [letter] = await stream.deadLetters().list();
    assert.equal(letter?.originalId, id);
    assert.equal(letter?.reason, 'max-deliveries');
    assert.equal(letter?.deliveryCount, 4);
    assert.deepEqual(letter?.fields, { order_id: 'poison', status: 'pending' });
    assert.equal(await pendingCount(redis.sluice, stream.name, 'billing'), 0);
  });

  test('a slow handler is not reclaimed by another worker: held entries are kept fresh', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('reclaim')}orders`);
    const options = { group: 'billing', startFrom: '0', claimIdle: 150, block: 50 } as const;
    const calls: string[] = [];
    const reclaimed: string[] = [];
    const handler = async (event: { id: string }) => {
      calls.push(event.id);
      // Four times claimIdle: without the heartbeat, the other worker would take it over.
      await delay(600);
    };
    const a = track(stream.consume({ ...options, consumer: 'a' }, handler));
    const b = track(stream.consume({ ...options, consumer: 'b' }, handler));
    for (const worker of [a, b]) worker.on('reclaimed', ({ ids }) => reclaimed.push(...ids));
    await Promise.all([a.ready, b.ready]);
    const id = await stream.publish({ order_id: 'slow' });
    await waitFor(() => calls.length > 0);
    await waitFor(async () => (await pendingCount(redis.sluice, stream.name, 'billing')) === 0, { timeout: 5000, message: 'the slow entry is acknowledged' });
    assert.deepEqual(calls, [id]);
    assert.deepEqual(reclaimed, []);
  });
});
