import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareIds } from '../../src/index.js';
import { pendingCount } from '../helpers/pending.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useSluice } from '../helpers/sluice-fixture.js';
import { waitFor } from '../helpers/wait.js';
import { closeAfterEach, delay, gate, pendingEntries } from './helpers.js';

const redis = useSluice();
const track = closeAfterEach();

describe('concurrency and ordering', () => {
  test('per-key ordering at concurrency 64: each key in ID order, one at a time; never more than 64 in flight', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('order')}orders`);
    const keyCount = 20;
    const total = 1000;
    const concurrency = 64;
    // Keys picked at random, so lanes are uneven and interleave in the stream.
    const published = await Promise.all(
      Array.from({ length: total }, (_, i) => stream.publish({ n: i }, { key: `customer-${Math.floor(Math.random() * keyCount)}` })),
    );
    const lastByKey = new Map<string, string>();
    const runningKeys = new Set<string>();
    const seen = new Set<string>();
    const problems: string[] = [];
    let running = 0;
    let maxRunning = 0;
    let maxInFlight = 0;
    const worker = track(
      stream.consume({ group: 'billing', startFrom: '0', concurrency, batchSize: 100, block: 50, ordering: 'key' }, async (event) => {
        const key = event.meta?.key as string;
        if (runningKeys.has(key)) problems.push(`${event.id}: ${key} already running`);
        const last = lastByKey.get(key);
        if (last !== undefined && compareIds(event.id, last) <= 0) problems.push(`${event.id} after ${last} for ${key}`);
        if (seen.has(event.id)) problems.push(`${event.id} twice`);
        seen.add(event.id);
        lastByKey.set(key, event.id);
        runningKeys.add(key);
        maxRunning = Math.max(maxRunning, ++running);
        maxInFlight = Math.max(maxInFlight, worker.inFlight);
        await delay(Math.random() * 3);
        runningKeys.delete(key);
        running--;
      }),
    );
    worker.on('processed', () => (maxInFlight = Math.max(maxInFlight, worker.inFlight)));
    await waitFor(() => seen.size === total, { timeout: 20_000, message: () => `processed ${seen.size} of ${total}` });
    await worker.idle();
    assert.deepEqual(problems, []);
    assert.deepEqual([...seen].sort(), [...published].sort());
    assert.ok(maxRunning > 1 && maxRunning <= keyCount, `keys ran in parallel, one handler per key (max ${maxRunning})`);
    assert.ok(maxInFlight <= concurrency, `in flight at most ${concurrency}, saw ${maxInFlight}`);
    assert.ok(maxInFlight > keyCount, `entries wait behind their key within the in-flight limit (max ${maxInFlight})`);
    assert.equal(await pendingCount(redis.sluice, stream.name, 'billing'), 0);
  });

  test('without ordering, handlers run up to `concurrency` at once and never more, whatever the backlog', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('order')}orders`);
    const total = 400;
    await stream.publishMany(Array.from({ length: total }, (_, i) => ({ n: i })));
    let running = 0;
    let maxRunning = 0;
    let maxInFlight = 0;
    let done = 0;
    const worker = track(
      stream.consume({ group: 'billing', startFrom: '0', concurrency: 8, block: 50 }, async () => {
        maxRunning = Math.max(maxRunning, ++running);
        maxInFlight = Math.max(maxInFlight, worker.inFlight);
        await delay(2);
        running--;
        done++;
      }),
    );
    await waitFor(() => done === total, { timeout: 20_000, message: () => `processed ${done} of ${total}` });
    await worker.idle();
    assert.equal(maxRunning, 8);
    assert.ok(maxInFlight <= 8, `in flight at most 8, saw ${maxInFlight}`);
  });

  test('entries reclaimed while a read waits do not push the worker past its concurrency', async () => {
    const name = `${uniquePrefix('order')}orders`;
    const stream = redis.sluice.stream(name);
    await redis.server.cli('XGROUP', 'CREATE', name, 'billing', '$', 'MKSTREAM');
    for (let i = 0; i < 4; i++) await redis.server.cli('XADD', name, '*', 'n', `old-${i}`);
    // A consumer that took them and died.
    await redis.server.cli('XREADGROUP', 'GROUP', 'billing', 'dead-pod', 'COUNT', '4', 'STREAMS', name, '>');
    const release = gate();
    let calls = 0;
    let maxInFlight = 0;
    const worker = track(
      stream.consume({ group: 'billing', consumer: 'w', concurrency: 4, batchSize: 4, block: 300, claimIdle: 150 }, async () => {
        calls++;
        maxInFlight = Math.max(maxInFlight, worker.inFlight);
        await release.promise;
      }),
    );
    const sampler = setInterval(() => (maxInFlight = Math.max(maxInFlight, worker.inFlight)), 1);
    try {
      await waitFor(() => calls === 4, { timeout: 5000, message: 'the dead consumer’s entries are reclaimed' });
      // The worker is full. New events must wait in the stream, not be read on top.
      await stream.publishMany([{ n: 'new-0' }, { n: 'new-1' }, { n: 'new-2' }, { n: 'new-3' }]);
      // A read that was already waiting when the reclaim filled the worker would return them at once.
      const held = async () => (await pendingEntries(redis.sluice, name, 'billing', 'w')).length;
      assert.equal(await held(), 4, 'the worker holds no more entries than its concurrency');
      assert.equal(calls, 4);
      release.open();
      await waitFor(() => calls === 8, { message: () => `${calls} handler calls` });
      await worker.idle();
      assert.ok(maxInFlight <= 4, `in flight at most 4, saw ${maxInFlight}`);
    } finally {
      clearInterval(sampler);
      release.open();
    }
  });
});
