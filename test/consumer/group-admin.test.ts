import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidOptionError, SluiceError, type FieldsEvent, type Stream } from '../../src/index.js';
import { pairs } from '../../src/stream/stream-info.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useSluice } from '../helpers/sluice-fixture.js';
import { commandCalls } from '../helpers/streams.js';
import { waitFor } from '../helpers/wait.js';
import { closeAfterEach } from './helpers.js';

const redis = useSluice();
const track = closeAfterEach();

/** What Redis itself says of the group (XINFO GROUPS): its position, entries-read and lag. */
async function redisGroup(stream: string, group: string): Promise<{ lastDeliveredId: string; entriesRead: number | null; lag: number | null; pending: number }> {
  const groups = (await redis.sluice.connection.command<unknown[]>(['XINFO', 'GROUPS', stream])).map(pairs);
  const found = groups.find((g) => g.name === group);
  assert.ok(found, `group ${group} exists`);
  const num = (value: unknown) => (value === null || value === undefined ? null : Number(value));
  return { lastDeliveredId: String(found['last-delivered-id']), entriesRead: num(found['entries-read']), lag: num(found.lag), pending: Number(found.pending) };
}

/** A stream of `count` events with explicit IDs one second apart, from `base` ms. */
async function streamOf(count: number, base = 1_700_000_000_000): Promise<{ stream: Stream; name: string; ids: string[] }> {
  const name = `${uniquePrefix('groups')}orders`;
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(await redis.server.cli('XADD', name, `${base + i * 1000}-0`, 'order_id', String(i)));
  return { stream: redis.sluice.stream(name), name, ids };
}

describe('createGroup', () => {
  test('at $, 0, an ID or a time; an existing group is left where it is; the lag is exact at once', async () => {
    const { stream, name, ids } = await streamOf(10);
    const atEnd = await stream.createGroup('live');
    assert.deepEqual(atEnd, { stream: name, group: 'live', lastDeliveredId: ids[9], lag: 0, pending: 0, created: true });
    const all = await stream.createGroup('replay', { from: '0' });
    assert.deepEqual([all.lastDeliveredId, all.lag], ['0-0', 10]);
    const afterId = await stream.createGroup('after', { from: ids[3] });
    assert.deepEqual([afterId.lastDeliveredId, afterId.lag], [ids[3], 6]);
    // From a time: the event of that very millisecond is included.
    const fromTime = await stream.createGroup('since', { from: new Date(1_700_000_007_000) });
    assert.equal(fromTime.lag, 3);
    assert.deepEqual(await redisGroup(name, 'since'), { lastDeliveredId: '1700000006999-18446744073709551615', entriesRead: 7, lag: 3, pending: 0 });

    const again = await stream.createGroup('after', { from: '0' });
    assert.deepEqual([again.created, again.lastDeliveredId, again.lag], [false, ids[3], 6]);
    // A group that exists costs no count (workers restart with the same startFrom every time).
    const ranges = await commandCalls(redis.server, 'xrange');
    const existing = await stream.createGroup('since', { from: new Date(1_700_000_001_000) });
    assert.deepEqual([existing.created, existing.lag], [false, 3]);
    assert.equal(await commandCalls(redis.server, 'xrange'), ranges);
  });

  test('creates the stream too; bad names and positions are refused before any I/O', async () => {
    const name = `${uniquePrefix('groups')}fresh`;
    const created = await redis.sluice.stream(name).createGroup('billing', { from: '0' });
    assert.deepEqual([created.created, created.lag], [true, 0]);
    assert.equal(await redis.server.cli('TYPE', name), 'stream');
    await assert.rejects(redis.sluice.stream(name).createGroup('has space'), InvalidOptionError);
    await assert.rejects(redis.sluice.stream(name).createGroup('x', { from: 'yesterday' }), (e: unknown) => e instanceof SluiceError && e.code === 'ERR_INVALID_STREAM_ID');
  });
});

test('a worker started from a time creates its group with an exact lag, known while it reads', async () => {
  const { stream, name, ids } = await streamOf(10);
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const seen: string[] = [];
  const worker = track(
    stream.consume({ group: 'late', startFrom: new Date(1_700_000_004_000), batchSize: 1, concurrency: 1, block: 100 }, async (event: FieldsEvent) => {
      seen.push(event.id);
      await gate;
    }),
  );
  await waitFor(() => seen.length === 1, { message: 'the first event handed to the handler' });
  // One of the six (from 4 s on) delivered and held: Redis still knows the other five.
  assert.deepEqual(await redisGroup(name, 'late'), { lastDeliveredId: ids[4], entriesRead: 5, lag: 5, pending: 1 });
  release();
  await waitFor(() => seen.length === 6, { message: () => `handled ${seen.length} of 6` });
  await worker.idle();
  assert.deepEqual(seen, ids.slice(4));
});

describe('resetGroup', () => {
  test('replays from a time: a running worker handles those events again, and the lag counts down exactly', async () => {
    const { stream, name, ids } = await streamOf(20);
    const handled: string[] = [];
    const worker = track(stream.consume({ group: 'billing', startFrom: '0', block: 100 }, (event: FieldsEvent) => void handled.push(event.id)));
    await waitFor(() => handled.length === 20, { message: () => `handled ${handled.length} of 20` });
    await worker.idle();

    const reset = await stream.resetGroup('billing', { to: new Date(1_700_000_015_000) });
    assert.deepEqual(reset, { stream: name, group: 'billing', previousId: ids[19], lastDeliveredId: '1700000014999-18446744073709551615', lag: 5, pending: 0 });
    assert.deepEqual(await redisGroup(name, 'billing'), { lastDeliveredId: '1700000014999-18446744073709551615', entriesRead: 15, lag: 5, pending: 0 });
    await waitFor(() => handled.length === 25, { message: () => `handled ${handled.length} of 25` });
    assert.deepEqual(handled.slice(20), ids.slice(15));
    await worker.idle();
    // Read to the end again: Redis's own counters agree, and stay exact for new events.
    assert.deepEqual(await redisGroup(name, 'billing'), { lastDeliveredId: ids[19], entriesRead: 20, lag: 0, pending: 0 });
    await stream.publish({ order_id: 'new' });
    await waitFor(() => handled.length === 26, { message: 'the new event handled' });
    await worker.idle();
    assert.deepEqual((await redisGroup(name, 'billing')).lag, 0);
  });

  test('to $ skips the backlog; to 0 replays everything; to an ID, the events after it', async () => {
    const { stream, name, ids } = await streamOf(8);
    await stream.createGroup('g', { from: '0' });
    const skipped = await stream.resetGroup('g', { to: '$' });
    assert.deepEqual([skipped.previousId, skipped.lastDeliveredId, skipped.lag], ['0-0', ids[7], 0]);
    const replay = await stream.resetGroup('g', { to: '0' });
    assert.deepEqual([replay.previousId, replay.lastDeliveredId, replay.lag], [ids[7], '0-0', 8]);
    // Redis keeps the count by itself from the start of the stream: known while the replay runs.
    await redis.server.cli('XREADGROUP', 'GROUP', 'g', 'c1', 'COUNT', '3', 'STREAMS', name, '>');
    assert.deepEqual([(await redisGroup(name, 'g')).lag, (await redisGroup(name, 'g')).entriesRead], [5, 3]);
    // Into the middle: moved once, with its counter (a worker reading meanwhile is never moved back).
    const setIds = await commandCalls(redis.server, 'xgroup|setid');
    const mid = await stream.resetGroup('g', { to: ids[5] as string });
    assert.equal(await commandCalls(redis.server, 'xgroup|setid'), setIds + 1);
    assert.deepEqual([mid.lastDeliveredId, mid.lag, mid.pending], [ids[5], 2, 3]);
    // From the middle, Sluice set the counter: the lag stays known while the group reads on.
    await redis.server.cli('XREADGROUP', 'GROUP', 'g', 'c1', 'COUNT', '1', 'STREAMS', name, '>');
    assert.deepEqual([(await redisGroup(name, 'g')).lag, (await redisGroup(name, 'g')).entriesRead], [1, 7]);
  });

  test('pending entries stay with their consumer, and show in the result', async () => {
    const { stream, name, ids } = await streamOf(5);
    await stream.createGroup('g', { from: '0' });
    await redis.server.cli('XREADGROUP', 'GROUP', 'g', 'c1', 'COUNT', '3', 'STREAMS', name, '>');
    const reset = await stream.resetGroup('g', { to: '$' });
    assert.deepEqual([reset.pending, reset.lag], [3, 0]);
    const pending = await redis.server.cli('XPENDING', name, 'g');
    assert.match(pending, new RegExp(`^3\\n${ids[0]}\\n${ids[2]}\\n`));
  });

  test('a missing stream or group is a clear error', async () => {
    const { stream, name } = await streamOf(1);
    await assert.rejects(stream.resetGroup('nope', { to: '0' }), (e: unknown) => e instanceof SluiceError && e.code === 'ERR_NO_GROUP' && e.message === `Group \`nope\` does not exist on \`${name}\`: check its name with \`sluice groups ${name}\``);
    await assert.rejects(redis.sluice.stream(`${name}-missing`).resetGroup('g', { to: '0' }), (e: unknown) => e instanceof SluiceError && e.code === 'ERR_NO_STREAM');
    await assert.rejects(stream.resetGroup('g', { to: 'soon' }), (e: unknown) => e instanceof SluiceError && e.code === 'ERR_INVALID_STREAM_ID');
  });
});

describe('deleteGroup', () => {
  test('refused while a consumer is active or entries are pending; forced, or once idle and empty, deleted with its rate-limit key', async () => {
    const { stream, name } = await streamOf(3);
    await stream.createGroup('g', { from: '0' });
    await redis.server.cli('XREADGROUP', 'GROUP', 'g', 'c1', 'COUNT', '2', 'STREAMS', name, '>');
    await assert.rejects(stream.deleteGroup('g'), (e: unknown) => e instanceof SluiceError && e.code === 'ERR_GROUP_ACTIVE' && /running consumer, `c1`/.test(e.message));
    // c1 counts as idle with activeMs 0; its two pending entries still stand in the way.
    await assert.rejects(stream.deleteGroup('g', { activeMs: 0 }), (e: unknown) => e instanceof SluiceError && e.code === 'ERR_GROUP_PENDING' && /has 2 pending entries/.test(e.message));
    assert.equal((await redisGroup(name, 'g')).pending, 2);

    await redis.server.cli('SET', `{${name}}:ratelimit:g`, 'x');
    const deleted = await stream.deleteGroup('g', { force: true });
    assert.deepEqual(deleted, { stream: name, group: 'g', pending: 2 });
    assert.equal(await redis.server.cli('XINFO', 'GROUPS', name), '');
    assert.equal(await redis.server.cli('EXISTS', `{${name}}:ratelimit:g`), '0');

    await stream.createGroup('empty', { from: '$' });
    assert.deepEqual(await stream.deleteGroup('empty'), { stream: name, group: 'empty', pending: 0 });
    await assert.rejects(stream.deleteGroup('empty'), (e: unknown) => e instanceof SluiceError && e.code === 'ERR_NO_GROUP');
  });

  test('a running worker keeps its group: the delete is refused', async () => {
    const { stream } = await streamOf(2);
    const worker = track(stream.consume({ group: 'busy', startFrom: '0', block: 100 }, () => undefined));
    await worker.ready;
    await worker.idle();
    await assert.rejects(stream.deleteGroup('busy'), (e: unknown) => e instanceof SluiceError && e.code === 'ERR_GROUP_ACTIVE');
  });
});
