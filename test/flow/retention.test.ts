import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { idTime } from '../../src/index.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useSluice } from '../helpers/sluice-fixture.js';
import { waitFor } from '../helpers/wait.js';
import { catchUp, createGroup, readNew, runFixture, streamIds } from './helpers.js';

const redis = useSluice();

function events(count: number, from = 0) {
  return Array.from({ length: count }, (_, i) => ({ n: from + i }));
}

const MAX_LEN = 5;

describe('retention that respects groups', () => {
  test('a lagging group never loses an undelivered entry; the report, info() and the clean-up after it catches up', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('ret')}orders`, { retention: { maxLen: MAX_LEN, exact: true, respectGroups: true } });
    const conn = redis.sluice.connection;
    await createGroup(conn, stream.name, 'lagging', '0');
    await createGroup(conn, stream.name, 'current', '$');
    const published: string[] = [];
    const started = Date.now();

    published.push(...(await stream.publishMany(events(40))));
    await catchUp(conn, stream.name, 'current');
    assert.equal(await stream.trim(), 0, 'trim() removes nothing the lagging group still needs');
    const report = await stream.applyRetention();
    assert.equal(report.removed, 0);
    assert.deepEqual(report.heldBackBy && { ...report.heldBackBy, ageMs: 0 }, {
      group: 'lagging',
      oldestNeededId: published[0],
      entries: 40 - MAX_LEN,
      ageMs: 0,
    });
    // The age is that of the oldest entry the group still needs, not of ID 0.
    const ageMs = report.heldBackBy?.ageMs ?? -1;
    assert.ok(ageMs >= 0 && ageMs <= Date.now() - started + 5, `age ${ageMs} ms`);

    const info = await stream.info();
    assert.equal(info.retentionHeldBack?.group, 'lagging');
    assert.equal(info.retentionHeldBack?.entries, 40 - MAX_LEN);
    assert.equal(info.retentionHeldBack?.oldestNeededId, published[0]);
    assert.ok((info.retentionHeldBack?.ageMs ?? -1) >= 0 && (info.retentionHeldBack?.ageMs ?? Infinity) <= Date.now() - started + 5);

    // More publishes and more passes: the producers' own enforcer, as run every few seconds.
    const enforcer = stream.retentionEnforcer;
    assert.ok(enforcer, 'a stream with respectGroups runs retention passes from its producers');
    for (let round = 0; round < 3; round++) {
      published.push(...(await stream.publishMany(events(20, 40 + round * 20))));
      await catchUp(conn, stream.name, 'current');
      const pass = await enforcer.run();
      assert.equal(pass.removed, 0);
      assert.equal(pass.heldBackBy?.group, 'lagging');
      assert.equal(pass.heldBackBy?.entries, published.length - MAX_LEN);
    }
    assert.equal(enforcer.last?.heldBackBy?.group, 'lagging');

    // The lagging group finally reads: it gets every event ever published, in order.
    assert.deepEqual(await readNew(conn, stream.name, 'lagging'), published);
    // Delivered but not acknowledged: still held (pending entries are never trimmed).
    const pendingPass = await enforcer.run();
    assert.equal(pendingPass.removed, 0);
    assert.equal(pendingPass.heldBackBy?.oldestNeededId, published[0]);
    assert.equal((await stream.info()).retentionHeldBack?.group, 'lagging');

    await conn.command(['XACK', stream.name, 'lagging', ...published]);
    const cleared = await enforcer.run();
    assert.equal(cleared.removed, published.length - MAX_LEN);
    assert.equal(cleared.heldBackBy, undefined);
    assert.deepEqual(await streamIds(conn, stream.name), published.slice(-MAX_LEN));
    assert.equal((await stream.info()).retentionHeldBack, undefined, 'the held-back state is cleared');
  });

  test('an entry delivered but not acknowledged is never trimmed, whatever the policy', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('ret')}pending`, { retention: { maxLen: MAX_LEN, exact: true, respectGroups: true } });
    const conn = redis.sluice.connection;
    await createGroup(conn, stream.name, 'workers', '$');
    const ids = await stream.publishMany(events(50));
    assert.deepEqual(await readNew(conn, stream.name, 'workers'), ids);
    // Everything is delivered (lag 0); entries 10 and 30 stay pending, the rest is acknowledged.
    await conn.command(['XACK', stream.name, 'workers', ...ids.filter((_, i) => i !== 10 && i !== 30)]);

    const first = await stream.applyRetention();
    assert.equal(first.removed, 10);
    assert.deepEqual(first.heldBackBy && { group: first.heldBackBy.group, oldestNeededId: first.heldBackBy.oldestNeededId, entries: first.heldBackBy.entries }, {
      group: 'workers',
      oldestNeededId: ids[10],
      entries: 50 - MAX_LEN - 10,
    });
    assert.deepEqual(await streamIds(conn, stream.name), ids.slice(10));
    // The pending entry still has its payload: a retry or a reclaim can process it.
    const claimed = await conn.command<Array<[string, string[] | null]>>(['XCLAIM', stream.name, 'workers', 'c2', '0', ids[10] as string]);
    assert.deepEqual(claimed, [[ids[10], ['n', '10']]]);

    await conn.command(['XACK', stream.name, 'workers', ids[10] as string]);
    assert.equal(await stream.trim(), 20);
    assert.deepEqual(await streamIds(conn, stream.name), ids.slice(30));

    await conn.command(['XACK', stream.name, 'workers', ids[30] as string]);
    assert.equal(await stream.trim(), 50 - 30 - MAX_LEN);
    assert.deepEqual(await streamIds(conn, stream.name), ids.slice(-MAX_LEN));
    assert.equal((await stream.info()).retentionHeldBack, undefined);
  });

  test('a long stream: the pass removes everything below the slowest group, exactly or by whole nodes, and counts what it keeps', async () => {
    const conn = redis.sluice.connection;
    for (const exact of [true, false]) {
      const stream = redis.sluice.stream(`${uniquePrefix('ret')}long-${exact}`, { retention: { maxLen: 100, exact, respectGroups: true } });
      await createGroup(conn, stream.name, 'slow', '0');
      await createGroup(conn, stream.name, 'fast', '0');
      const ids = await stream.publishMany(events(3000));
      await catchUp(conn, stream.name, 'fast');
      const read = await conn.command<Array<[string, unknown[]]>>(['XREADGROUP', 'GROUP', 'slow', 'c1', 'COUNT', '2500', 'STREAMS', stream.name, '>']);
      assert.equal(read[0]?.[1].length, 2500);
      await conn.command(['XACK', stream.name, 'slow', ...ids.slice(0, 2500)]);

      const report = await stream.applyRetention();
      // The policy would keep the newest 100; slow still needs the 500 from ids[2500] on.
      assert.deepEqual(report.heldBackBy && { group: report.heldBackBy.group, entries: report.heldBackBy.entries, oldest: report.heldBackBy.oldestNeededId }, {
        group: 'slow',
        entries: 400,
        oldest: ids[2500],
      });
      const kept = await streamIds(conn, stream.name);
      if (exact) assert.equal(report.removed, 2500);
      else assert.ok(report.removed > 2500 - 100 && report.removed <= 2500 && report.removed % 100 === 0, `removed ${report.removed} (whole nodes)`);
      assert.deepEqual(kept, ids.slice(report.removed));
      assert.deepEqual(await readNew(conn, stream.name, 'slow'), ids.slice(2500));
    }
  });

  test('maxAge respecting groups keeps what a lagging group needs, removes the rest once it caught up', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('ret')}age`, { retention: { maxAge: '100ms', exact: true, respectGroups: true } });
    const conn = redis.sluice.connection;
    await createGroup(conn, stream.name, 'lagging', '0');
    const old = await stream.publishMany(events(10));
    const oldEnough = idTime(old[old.length - 1] as string) + 100;
    await waitFor(() => Date.now() > oldEnough, { message: 'the events are older than maxAge' });
    const report = await stream.applyRetention();
    assert.equal(report.removed, 0);
    assert.equal(report.heldBackBy?.group, 'lagging');
    assert.equal(report.heldBackBy?.entries, 10);
    assert.equal(report.heldBackBy?.oldestNeededId, old[0]);
    assert.deepEqual(await catchUp(conn, stream.name, 'lagging'), old);
    assert.equal(await stream.trim(), 10);
    assert.equal((await stream.info()).length, 0);
  });

  test('the producers run a pass on their own: publishing is enough to get the report', async () => {
    const name = `${uniquePrefix('ret')}producer-pass`;
    const conn = redis.sluice.connection;
    await createGroup(conn, name, 'lagging', '0');
    // Written by a producer without the policy (e.g. redis-cli), so no pass has run yet.
    const before = await redis.sluice.stream(name).publishMany(events(30));
    const stream = redis.sluice.stream(name, { retention: { maxLen: MAX_LEN, exact: true, respectGroups: true } });
    const id = await stream.publish({ n: 'next' });
    const report = await waitFor(() => stream.retentionEnforcer?.last, { message: 'a retention pass ran after the publish' });
    assert.ok(report);
    assert.equal(report.removed, 0);
    assert.equal(report.heldBackBy?.group, 'lagging');
    assert.equal(report.heldBackBy?.oldestNeededId, before[0]);
    assert.deepEqual(await readNew(conn, name, 'lagging'), [...before, id]);
  });

  test('a stream that does not exist yet: a pass removes nothing and reports nothing', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('ret')}missing`, { retention: { maxLen: MAX_LEN, respectGroups: true } });
    assert.deepEqual(await stream.applyRetention(), { removed: 0 });
    assert.equal(await stream.trim(), 0);
    assert.equal((await stream.info()).retentionHeldBack, undefined);
  });

  test('the difference is real: without respectGroups the same setup loses the entries the group never got', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('ret')}plain`, { retention: { maxLen: MAX_LEN, exact: true } });
    const conn = redis.sluice.connection;
    await createGroup(conn, stream.name, 'lagging', '0');
    await createGroup(conn, stream.name, 'current', '$');
    const published = await stream.publishMany(events(50));
    await catchUp(conn, stream.name, 'current');
    await stream.trim();
    const delivered = await readNew(conn, stream.name, 'lagging');
    assert.deepEqual(delivered, published.slice(-MAX_LEN));
    assert.equal(published.length - delivered.length, 45, '45 events were never delivered to the lagging group');
  });

  test('the warning is logged once while the same group holds retention back (pino JSON on stderr of a producer process)', async () => {
    const name = `${uniquePrefix('ret')}logged`;
    const run = await runFixture('retention-log', { url: redis.server.url, stream: name, maxLen: MAX_LEN, rounds: 5 });
    assert.equal(run.code, 0, run.stderr.join('\n'));
    // pino's JSON lines (anything else on stderr, e.g. a Node warning, is not a log line).
    const logs = run.stderr.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as { level: number; msg: string; group?: string; entries?: number; stream?: string });
    const passes = run.stdout.map((line) => JSON.parse(line) as { removed: number; heldBackBy?: { group: string } });
    // Five passes were held back by the lagging group, then it caught up.
    assert.deepEqual(
      passes.map((p) => p.heldBackBy?.group ?? null),
      ['lagging', 'lagging', 'lagging', 'lagging', 'lagging', null, null],
    );
    const holds = logs.filter((l) => /^group \S+ holds retention/.test(l.msg));
    assert.equal(holds.length, 1, JSON.stringify(holds));
    assert.equal(holds[0]?.level, 40, 'a warning');
    assert.equal(holds[0]?.group, 'lagging');
    assert.equal(holds[0]?.stream, name);
    assert.ok((holds[0]?.entries ?? 0) > 0);
    assert.match(holds[0]?.msg ?? '', /group lagging holds retention of .* back: \d+ entries kept, the oldest \d+ s old/);
    const released = logs.filter((l) => l.msg.includes('no longer holds'));
    assert.equal(released.length, 1, JSON.stringify(released));
    assert.deepEqual(
      logs.filter((l) => l.level >= 40 && !holds.includes(l)),
      [],
      'no other warning (a pass on the fresh stream must not fail)',
    );
  });
});
