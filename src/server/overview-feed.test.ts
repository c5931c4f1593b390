import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { NotConnectedError } from '../errors.js';
import type { Overview } from '../observe/overview.js';
import { OverviewFeed, type OverviewSource, type OverviewUpdate } from './overview-feed.js';

const silent = pino({ level: 'silent' });

/** A source that counts its reads; each overview's `at` is its read number. */
function countingSource(fail?: (read: number) => boolean): OverviewSource & { reads: number; concurrent: number; maxConcurrent: number } {
  const source = {
    reads: 0,
    concurrent: 0,
    maxConcurrent: 0,
    async read(): Promise<Overview> {
      const n = ++source.reads;
      source.concurrent++;
      source.maxConcurrent = Math.max(source.maxConcurrent, source.concurrent);
      await new Promise((resolve) => setTimeout(resolve, 2));
      source.concurrent--;
      if (fail?.(n)) throw new NotConnectedError('Redis is unreachable');
      return { at: n, streams: [], alerts: [], truncated: false };
    },
  };
  return source;
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

test('one read per interval for every subscriber, whatever their number; the loop stops with the last one', async () => {
  const source = countingSource();
  const feed = new OverviewFeed(source, 20, silent);
  const received: OverviewUpdate[][] = [[], [], [], [], []];
  const unsubscribes = received.map((list) => feed.subscribe((update) => list.push(update)));
  await until(() => received.every((list) => list.length >= 4), 'four updates each');
  // Every subscriber got the same reads: one read serves all five.
  const seen = received.map((list) => list.slice(0, 4).map((u) => u.json));
  for (const list of seen) assert.deepEqual(list, seen[0]);
  assert.ok(source.reads <= received[0]!.length + 1, `${source.reads} reads for ${received[0]!.length} updates per subscriber`);
  assert.equal(source.maxConcurrent, 1);

  for (const unsubscribe of unsubscribes) unsubscribe();
  await until(() => !feed.running, 'the loop to stop');
  const reads = source.reads;
  await new Promise((resolve) => setTimeout(resolve, 25));
  assert.equal(source.reads, reads, 'no read once nobody is subscribed');
});

test('current(): one read for concurrent callers, reused within the interval', async () => {
  const source = countingSource();
  const feed = new OverviewFeed(source, 60_000, silent);
  const [a, b] = await Promise.all([feed.current(), feed.current()]);
  assert.equal(a, b);
  assert.equal(source.reads, 1);
  assert.equal(JSON.parse(a).at, 1);
  assert.equal(await feed.current(), a);
  assert.equal(source.reads, 1);
  assert.equal(feed.running, false, 'current() starts no loop');
});

test('a failed read is an error update, and the next read is tried all the same', async () => {
  const source = countingSource((n) => n === 1);
  const feed = new OverviewFeed(source, 10, silent);
  const updates: OverviewUpdate[] = [];
  const unsubscribe = feed.subscribe((update) => updates.push(update));
  await until(() => updates.length >= 2, 'two updates');
  unsubscribe();
  assert.equal(updates[0]?.kind, 'error');
  assert.deepEqual(JSON.parse(updates[0]!.json), { error: { code: 'ERR_NOT_CONNECTED', message: 'Redis is unreachable: try again shortly' } });
  assert.equal(updates[1]?.kind, 'overview');
  assert.equal(JSON.parse(updates[1]!.json).at, 2);
});

test('a late subscriber gets the latest overview at once when it is recent', async () => {
  const source = countingSource();
  const feed = new OverviewFeed(source, 60_000, silent);
  const first: OverviewUpdate[] = [];
  const stopFirst = feed.subscribe((update) => first.push(update));
  await until(() => first.length === 1, 'the first update');
  const late: OverviewUpdate[] = [];
  const stopLate = feed.subscribe((update) => late.push(update));
  assert.deepEqual(late, first);
  assert.equal(source.reads, 1);
  stopFirst();
  stopLate();
  // The long wait is cut short when the last subscriber leaves.
  await until(() => !feed.running, 'the loop to stop');
});
