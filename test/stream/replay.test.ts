import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { idTime } from '../../src/index.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useSluice } from '../helpers/sluice-fixture.js';
import { clockPast, collect } from '../helpers/streams.js';

const redis = useSluice();

/**
 * Publishes an early group, waits until the clock has moved past the early group's last
 * millisecond, then publishes a late group: every late ID is in a later millisecond.
 */
async function twoGroups(name: string) {
  const stream = redis.sluice.stream(`${uniquePrefix('replay')}${name}`);
  const early = await stream.publishMany(Array.from({ length: 5 }, (_, i) => ({ group: 'early', n: i })));
  const lastEarlyMs = idTime(early[early.length - 1] as string);
  await clockPast(lastEarlyMs);
  const late = await stream.publishMany(Array.from({ length: 4 }, (_, i) => ({ group: 'late', n: i })));
  assert.ok(idTime(late[0] as string) > lastEarlyMs, 'the late group starts in a later millisecond');
  return { stream, early, late, boundary: lastEarlyMs + 1 };
}

describe('replay by time', () => {
  test('read({ from: Date }) returns exactly the later group', async () => {
    const { stream, early, late, boundary } = await twoGroups('orders');
    assert.deepEqual((await collect(stream.read({ from: new Date(boundary) }))).map((e) => e.id), late);
    assert.deepEqual((await collect(stream.read({ from: new Date(boundary).toISOString() }))).map((e) => e.id), late);
    // A time equal to the first late event's millisecond includes that event.
    assert.deepEqual((await collect(stream.read({ from: new Date(idTime(late[0] as string)) }))).map((e) => e.id), late);
    // The early group's last millisecond: the last early event(s) of that ms, then the late group.
    const fromLastEarly = (await collect(stream.read({ from: new Date(boundary - 1) }))).map((e) => e.id);
    assert.deepEqual(fromLastEarly.slice(-late.length), late);
    assert.ok(fromLastEarly.length > late.length && fromLastEarly.length <= early.length + late.length);
    assert.deepEqual(fromLastEarly.slice(0, -late.length), early.filter((id) => idTime(id) === boundary - 1));
  });

  test('read with a small count pages through all events', async () => {
    const { stream, early, late } = await twoGroups('paged');
    assert.deepEqual((await collect(stream.read({ from: '0', count: 2 }))).map((e) => e.id), [...early, ...late]);
  });

  test('read from an ID returns the events after it', async () => {
    const { stream, early, late } = await twoGroups('after-id');
    assert.deepEqual((await collect(stream.read({ from: early[early.length - 1] as string }))).map((e) => e.id), late);
  });

  test('range({ from }) as a Date, an ISO string or epoch ms returns exactly the later group', async () => {
    const { stream, late, boundary } = await twoGroups('range');
    for (const from of [new Date(boundary), new Date(boundary).toISOString(), boundary, String(boundary)]) {
      const events = await stream.range({ from });
      assert.deepEqual(events.map((e) => e.id), late, `from ${String(from)}`);
      assert.ok(events.every((e) => e.fields.group === 'late'));
    }
  });

  test('range({ to }) is inclusive and returns exactly the earlier group', async () => {
    const { stream, early, boundary } = await twoGroups('range-to');
    for (const to of [new Date(boundary - 1), new Date(boundary - 1).toISOString(), boundary - 1]) {
      assert.deepEqual((await stream.range({ to })).map((e) => e.id), early, `to ${String(to)}`);
    }
    const lastLate = await stream.range({ reverse: true, count: 1 });
    const window = await stream.range({ from: new Date(boundary), to: new Date(idTime(lastLate[0]?.id as string)) });
    assert.equal(window.length, 4);
    assert.ok(window.every((e) => e.fields.group === 'late'));
  });

  test('range with count and reverse', async () => {
    const { stream, early, late, boundary } = await twoGroups('range-count');
    assert.deepEqual((await stream.range({ from: boundary, count: 2 })).map((e) => e.id), late.slice(0, 2));
    assert.deepEqual((await stream.range({ from: boundary, reverse: true })).map((e) => e.id), [...late].reverse());
    assert.deepEqual((await stream.range({ reverse: true, count: 3 })).map((e) => e.id), late.slice(-3).reverse());
    assert.deepEqual((await stream.range({ to: new Date(boundary - 1), reverse: true, count: 2 })).map((e) => e.id), early.slice(-2).reverse());
    assert.deepEqual((await stream.range({ from: early[1], to: late[1] })).map((e) => e.id), [...early.slice(1), ...late.slice(0, 2)]);
  });

  test('range pages through more than one XRANGE page (1000) without losing or repeating events', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('replay')}big`);
    const ids = await stream.publishMany(Array.from({ length: 2500 }, (_, i) => ({ n: i })));
    assert.deepEqual((await stream.range()).map((e) => e.id), ids);
    assert.deepEqual((await stream.range({ reverse: true })).map((e) => e.id), [...ids].reverse());
    assert.deepEqual((await stream.range({ count: 1500 })).map((e) => e.id), ids.slice(0, 1500));
    assert.deepEqual((await stream.range({ reverse: true, count: 1001 })).map((e) => e.id), ids.slice(-1001).reverse());
  });

  test('range and read of a missing stream are empty', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('replay')}missing`);
    assert.deepEqual(await stream.range(), []);
    assert.deepEqual(await collect(stream.read({ from: '0' })), []);
  });
});
