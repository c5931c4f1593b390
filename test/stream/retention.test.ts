import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { idTime, InvalidOptionError } from '../../src/index.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { beforeInOrder } from '../helpers/fixtures.js';
import { useSluice } from '../helpers/sluice-fixture.js';
import { cliLength, clockPast, commandCalls } from '../helpers/streams.js';

const redis = useSluice();
/** Entries per stream node (radix-tree leaf): approximate trimming removes whole nodes only. */
let nodeSize: number;

beforeInOrder(async () => {
  nodeSize = Number((await redis.server.cli('CONFIG', 'GET', 'stream-node-max-entries')).split('\n')[1]);
});

function events(count: number, from = 0) {
  return Array.from({ length: count }, (_, i) => ({ n: from + i, status: 'pending' }));
}

describe('retention', () => {
  test('exact maxLen keeps exactly N entries, the newest', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('ret')}exact`, { retention: { maxLen: 250, exact: true } });
    const ids = await stream.publishMany(events(1000));
    await Promise.all(events(37, 1000).map((e) => stream.publish(e)));
    assert.equal(await cliLength(redis.server, stream.name), 250);
    const kept = await stream.range();
    assert.equal(kept[0]?.fields.n, String(1037 - 250));
    assert.equal(kept[kept.length - 1]?.fields.n, '1036');
    assert.ok(!kept.some((e) => e.id === ids[0]));
  });

  test('approximate maxLen keeps at least N, fewer than N + one node, by removing whole nodes', async () => {
    // Small entries fill nodes by count (stream-node-max-entries, 100 by default), not by bytes.
    assert.equal(nodeSize, 100, 'the server runs with the default stream-node-max-entries');
    const maxLen = 550;
    const published = 3000;
    const stream = redis.sluice.stream(`${uniquePrefix('ret')}approx`, { retention: { maxLen } });
    await stream.publishMany(events(published));
    const length = await cliLength(redis.server, stream.name);
    // XADD MAXLEN ~ N drops the oldest node while the rest still holds ≥ N entries, so after
    // each XADD: N ≤ length < N + entries of the oldest node ≤ N + stream-node-max-entries.
    assert.ok(length >= maxLen, `at least maxLen: ${length}`);
    assert.ok(length < maxLen + nodeSize, `less than maxLen + one node: ${length}`);
    // Only whole nodes go: exact trimming (550) would fail this, no trimming (3000) the bound above.
    assert.equal((published - length) % nodeSize, 0, `removed whole nodes: ${published - length}`);
    assert.equal((await stream.range({ count: 1 }))[0]?.fields.n, String(published - length));
  });

  test('maxAge with exact trimming removes entries older than the age', async () => {
    const maxAgeMs = 300;
    const stream = redis.sluice.stream(`${uniquePrefix('ret')}age`, { retention: { maxAge: `${maxAgeMs}ms`, exact: true } });
    const old = await stream.publishMany(events(20));
    const oldestAllowedAfter = idTime(old[old.length - 1] as string) + maxAgeMs;
    // Nothing is trimmed while the old events are younger than the age.
    await stream.publish({ n: 'fresh-1' });
    assert.equal(await cliLength(redis.server, stream.name), 21);
    await clockPast(oldestAllowedAfter);
    const fresh = await stream.publishMany([{ n: 'fresh-2' }, { n: 'fresh-3' }]);
    // The XTRIM rides the same connection after the batch's XADDs: a later command sees its effect.
    const kept = await stream.range();
    assert.ok(kept.every((e) => !old.includes(e.id)), 'every old event is gone');
    assert.deepEqual(kept.slice(-2).map((e) => e.id), fresh);
    assert.ok(kept.length === 2 || (kept.length === 3 && kept[0]?.fields.n === 'fresh-1'));
  });

  test('trim({ maxLen, exact }) removes down to N and returns the number removed', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('ret')}trim`);
    await stream.publishMany(events(50));
    assert.equal(await stream.trim({ maxLen: 10, exact: true }), 40);
    assert.equal(await cliLength(redis.server, stream.name), 10);
    assert.equal(await stream.trim({ maxLen: 10, exact: true }), 0);
  });

  test('trim({ maxLen }) (approximate) removes whole nodes and returns how many entries that was', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('ret')}trim-approx`);
    await stream.publishMany(events(250));
    const removed = await stream.trim({ maxLen: 100 });
    const length = await cliLength(redis.server, stream.name);
    assert.equal(removed, 250 - length);
    assert.equal(removed, 100, 'the first node (100 entries) goes; the second would leave fewer than 100');
  });

  test('trim() applies the stream retention, including maxAge', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('ret')}trim-own`, { retention: { maxAge: '200ms', exact: true } });
    const ids = await stream.publishMany(events(5));
    await clockPast(idTime(ids[ids.length - 1] as string) + 200);
    assert.equal(await stream.trim(), 5);
    assert.equal(await cliLength(redis.server, stream.name), 0);
  });

  test('trim with no policy and no stream retention is InvalidOptionError, before any I/O', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('ret')}none`);
    await stream.publish({ n: 1 });
    const xtrims = await commandCalls(redis.server, 'xtrim');
    await assert.rejects(stream.trim(), (error: unknown) => error instanceof InvalidOptionError && error.code === 'ERR_INVALID_OPTION' && error.option === 'policy');
    await assert.rejects(stream.trim({}), (error: unknown) => error instanceof InvalidOptionError && error.option === 'policy');
    await assert.rejects(stream.trim({ maxLen: -1 }), (error: unknown) => error instanceof InvalidOptionError && error.option === 'policy.maxLen');
    assert.equal(await commandCalls(redis.server, 'xtrim'), xtrims, 'no XTRIM was sent');
    assert.equal(await cliLength(redis.server, stream.name), 1);
  });

  test('the batch trim for maxAge leaves younger entries alone under load', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('ret')}age-load`, { retention: { maxAge: '1h' } });
    await Promise.all(events(2000).map((e) => stream.publish(e)));
    assert.equal(await cliLength(redis.server, stream.name), 2000);
  });
});
