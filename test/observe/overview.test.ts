import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { connect, idTime } from '../../src/index.js';
import { trimRespectingGroups } from '../../src/flow/retention.js';
import { OverviewReader, type OverviewStream } from '../../src/observe/overview.js';
import { createGroup, readNew } from '../flow/helpers.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useSluice } from '../helpers/sluice-fixture.js';
import { waitFor } from '../helpers/wait.js';

const redis = useSluice();

/** Calls of one command since the server started (INFO commandstats), e.g. `xinfo|stream`. */
async function calls(command: string): Promise<number> {
  const info = await redis.sluice.connection.command<string>(['INFO', 'commandstats']);
  const match = new RegExp(`^cmdstat_${command.replace('|', '\\|')}:calls=(\\d+)`, 'm').exec(info);
  return match ? Number(match[1]) : 0;
}

function byName(streams: OverviewStream[], name: string): OverviewStream {
  const found = streams.find((s) => s.name === name);
  assert.ok(found, `${name} in the overview (got ${streams.map((s) => s.name).join(', ')})`);
  return found;
}

describe('OverviewReader', () => {
  test('reports a known workload exactly: lengths, ages, groups, pending, consumers, dead letters, retention held back', async () => {
    const prefix = uniquePrefix('overview');
    const conn = redis.sluice.connection;
    const orders = `${prefix}orders`;
    const empty = `${prefix}empty`;
    await createGroup(conn, orders, 'billing', '0');
    const ids = await redis.sluice.stream(orders).publishMany(Array.from({ length: 10 }, (_, n) => ({ n })));
    await createGroup(conn, orders, 'audit', '$');
    // billing: 6 delivered to c1, 2 of them acknowledged → 4 pending, 4 undelivered.
    const delivered = await readNew(conn, orders, 'billing', 6);
    await conn.command(['XACK', orders, 'billing', delivered[0] as string, delivered[1] as string]);
    // Three dead letters in the default dead-letter stream of `orders`.
    for (let n = 0; n < 3; n++) await conn.command(['XADD', `{${orders}}:dlq`, '*', 'n', String(n)]);
    // billing holds a maxLen 2 trim back: it still needs ids[2] (its oldest pending) onwards.
    const trim = await trimRespectingGroups(conn, orders, { maxLen: 2, exact: true });
    // It removes what billing has acknowledged (ids[0], ids[1]) and keeps the 6 others for it.
    assert.deepEqual({ removed: trim.removed, group: trim.heldBackBy?.group, entries: trim.heldBackBy?.entries }, { removed: 2, group: 'billing', entries: 6 });
    await createGroup(conn, empty, 'g', '$');

    const reader = new OverviewReader({ sluice: redis.sluice, match: `*${prefix}*`, ttl: 0 });
    const overview = await reader.read();
    assert.equal(overview.truncated, false);
    // The dead-letter stream is `deadLetters` of its stream, not a stream of its own.
    assert.deepEqual(overview.streams.map((s) => s.name), [empty, orders]);

    const s = byName(overview.streams, orders);
    assert.equal(s.length, 8);
    assert.equal(s.firstId, ids[2]);
    assert.equal(s.lastId, ids[9]);
    assert.equal(s.entriesAdded, 10);
    assert.equal(s.deadLetters, 3);
    assert.equal(s.oldestAgeMs, overview.at - idTime(ids[2] as string));
    assert.equal(s.newestAgeMs, overview.at - idTime(ids[9] as string));
    assert.ok(s.memoryBytes !== null && s.memoryBytes > 0, `memoryBytes ${s.memoryBytes}`);
    assert.equal(s.inRate, null, 'no rate on the first read');
    assert.deepEqual(s.heldBack, { group: 'billing', entries: 6 });

    const [audit, billing] = s.groups;
    assert.equal(audit?.name, 'audit');
    assert.deepEqual({ lag: audit?.lag, pending: audit?.pending, consumers: audit?.consumers, oldest: audit?.oldestPendingAgeMs, read: audit?.entriesRead }, {
      lag: 0,
      pending: 0,
      consumers: [],
      oldest: null,
      // Redis knows a group's entries-read only once it has read something.
      read: null,
    });
    assert.equal(billing?.name, 'billing');
    assert.equal(billing.lag, 4);
    assert.equal(billing.pending, 4);
    assert.equal(billing.entriesRead, 6);
    assert.equal(billing.lastDeliveredId, ids[5]);
    assert.equal(billing.oldestPendingAgeMs, overview.at - idTime(ids[2] as string));
    // In time, billing is as far behind as its first undelivered event is old; audit is not behind.
    assert.equal(billing.behindMs, overview.at - idTime(ids[6] as string));
    assert.equal(audit?.behindMs, 0);
    assert.equal(billing.consumers.length, 1);
    assert.equal(billing.consumers[0]?.name, 'c1');
    assert.equal(billing.consumers[0]?.pending, 4);
    assert.ok((billing.consumers[0]?.idleMs ?? -1) >= 0);

    const e = byName(overview.streams, empty);
    assert.deepEqual(
      { length: e.length, firstId: e.firstId, lastId: e.lastId, oldest: e.oldestAgeMs, newest: e.newestAgeMs, dead: e.deadLetters, held: e.heldBack },
      { length: 0, firstId: null, lastId: null, oldest: null, newest: null, dead: 0, held: null },
    );

    // The retention finding comes with the first read; the group findings need a baseline.
    assert.deepEqual(
      overview.alerts.map((a) => [a.stream, a.group, a.kind]),
      [[orders, 'billing', 'retention-held-back']],
    );
  });

  test('rates are the deltas of entries added and entries read between two reads', async () => {
    const prefix = uniquePrefix('rates');
    const conn = redis.sluice.connection;
    const name = `${prefix}s`;
    await createGroup(conn, name, 'g', '$');
    const stream = redis.sluice.stream(name);
    await stream.publishMany(Array.from({ length: 5 }, (_, n) => ({ n })));
    // entries-read is known once the group has read something.
    await readNew(conn, name, 'g', 2);
    const reader = new OverviewReader({ sluice: redis.sluice, streams: [name], ttl: 0 });
    const first = await reader.read();
    assert.equal(byName(first.streams, name).groups[0]?.entriesRead, 2);
    await stream.publishMany(Array.from({ length: 20 }, (_, n) => ({ n })));
    await readNew(conn, name, 'g', 8);
    // Some time must pass between the reads for a rate to exist.
    await waitFor(() => Date.now() > first.at + 20);
    const second = await reader.read();
    const seconds = (second.at - first.at) / 1000;
    const s = byName(second.streams, name);
    assert.equal(s.inRate, 20 / seconds);
    assert.equal(s.groups[0]?.outRate, 8 / seconds);
    assert.equal(reader.reads, 2);
  });

  test('reads within the TTL are answered from the cache, and concurrent reads share one Redis read', async () => {
    const prefix = uniquePrefix('cache');
    const name = `${prefix}s`;
    await redis.sluice.stream(name).publish({ a: 1 });
    const reader = new OverviewReader({ sluice: redis.sluice, streams: [name], ttl: '1h' });
    const before = await calls('xinfo|stream');
    const [a, b, c] = await Promise.all([reader.read(), reader.read(), reader.read()]);
    const d = await reader.read();
    assert.equal(reader.reads, 1);
    assert.ok(a === b && b === c && c === d, 'every caller got the same overview');
    assert.equal((await calls('xinfo|stream')) - before, 1, 'one XINFO STREAM reached Redis');

    const short = new OverviewReader({ sluice: redis.sluice, streams: [name], ttl: 30 });
    const first = await short.read();
    assert.equal(await short.read(), first);
    await waitFor(async () => (await short.read()) !== first, { message: 'a new read once the TTL passed' });
    assert.equal(short.reads, 2);
  });

  test('a failed read is not cached: the next call reads again', async () => {
    const prefix = uniquePrefix('fail');
    const name = `${prefix}s`;
    await redis.sluice.stream(name).publish({ a: 1 });
    // A connection that is closed: every read through it fails.
    const other = await connect({ url: redis.server.url });
    await other.close();
    const failing = new OverviewReader({ sluice: other, streams: [name], ttl: '1h' });
    await assert.rejects(failing.read());
    await assert.rejects(failing.read());
    assert.equal(failing.reads, 2);
  });

  test('lag-growing and no-progress findings compare with a read at least alertWindow old', async () => {
    const prefix = uniquePrefix('alerts');
    const conn = redis.sluice.connection;
    const name = `${prefix}s`;
    await createGroup(conn, name, 'stuck', '$');
    const stream = redis.sluice.stream(name);
    await stream.publishMany(Array.from({ length: 3 }, (_, n) => ({ n })));
    const reader = new OverviewReader({ sluice: redis.sluice, streams: [name], ttl: 0, alertWindow: 50, thresholds: { maxLength: 4 } });
    // The same reads, with a window that is never reached: only the one-read findings.
    const patient = new OverviewReader({ sluice: redis.sluice, streams: [name], ttl: 0, alertWindow: '1h', thresholds: { maxLength: 4 } });
    const first = await reader.read();
    assert.deepEqual(first.alerts, [], 'no baseline yet, and 3 entries are within the threshold');
    assert.deepEqual((await patient.read()).alerts, []);
    await stream.publishMany(Array.from({ length: 2 }, (_, n) => ({ n })));
    await waitFor(() => Date.now() >= first.at + 50);
    const later = await reader.read();
    assert.deepEqual(
      later.alerts.map((a) => [a.kind, a.group ?? null, a.severity]),
      [
        ['length', null, 'warn'],
        ['lag-growing', 'stuck', 'warn'],
        ['no-progress', 'stuck', 'fail'],
      ],
    );
    assert.deepEqual((await patient.read()).alerts.map((a) => a.kind), ['length']);
  });

  test('maxStreams bounds a read and says so; named streams that do not exist are left out', async () => {
    const prefix = uniquePrefix('max');
    for (const n of [3, 1, 2]) await redis.sluice.stream(`${prefix}s${n}`).publish({ n });
    const reader = new OverviewReader({ sluice: redis.sluice, match: `${prefix}*`, maxStreams: 2, ttl: 0 });
    const overview = await reader.read();
    assert.equal(overview.truncated, true);
    assert.deepEqual(overview.streams.map((s) => s.name), [`${prefix}s1`, `${prefix}s2`]);

    const named = new OverviewReader({ sluice: redis.sluice, streams: [`${prefix}s1`, `${prefix}missing`], ttl: 0 });
    assert.deepEqual((await named.read()).streams.map((s) => s.name), [`${prefix}s1`]);
  });

  test('1,000 streams with a group each are read in a few round trips and well under a bound', async (t) => {
    const prefix = uniquePrefix('many');
    const conn = redis.sluice.connection;
    const names = Array.from({ length: 1000 }, (_, n) => `${prefix}${String(n).padStart(4, '0')}`);
    const setup: string[][] = [];
    for (const name of names) {
      setup.push(['XADD', name, '*', 'n', '1'], ['XADD', name, '*', 'n', '2'], ['XGROUP', 'CREATE', name, 'g', '0']);
      setup.push(['XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '1', 'STREAMS', name, '>']);
    }
    await conn.pipeline(setup);
    const reader = new OverviewReader({ sluice: redis.sluice, match: `${prefix}*`, ttl: 0 });
    const before = await calls('xinfo|stream');
    // Counts the pipelined batches and single commands sent, through the real connection.
    let batches = 0;
    const pipeline = conn.pipeline.bind(conn);
    const command = conn.command.bind(conn);
    conn.pipeline = (commands, options) => (batches++, pipeline(commands, options));
    let scans = 0;
    conn.command = (args, options) => (scans++, command(args, options));
    const started = performance.now();
    let overview: Awaited<ReturnType<OverviewReader['read']>>;
    try {
      overview = await reader.read();
    } finally {
      conn.pipeline = pipeline;
      conn.command = command;
    }
    const ms = performance.now() - started;
    // 4 batches of 250 streams, then 4 of their groups (sent together), besides the SCAN calls.
    assert.equal(batches, 8);
    t.diagnostic(`${scans} SCAN calls`);
    assert.equal(overview.streams.length, 1000);
    assert.equal(overview.truncated, false);
    for (const s of overview.streams) {
      assert.equal(s.length, 2, s.name);
      assert.deepEqual(s.groups.map((g) => [g.name, g.lag, g.pending, g.consumers.length]), [['g', 1, 1, 1]], s.name);
    }
    assert.equal((await calls('xinfo|stream')) - before, 1000, 'one XINFO STREAM per stream');
    t.diagnostic(`read 1,000 streams in ${Math.round(ms)} ms`);
    // Measured at 200–400 ms on a 2-core machine and 2 s with other test suites running; the
    // bound allows for a loaded one.
    assert.ok(ms < 10_000, `read 1,000 streams in ${Math.round(ms)} ms`);
  });
});
