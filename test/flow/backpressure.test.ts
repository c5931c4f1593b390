import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { BackpressureError, connect, type Sluice } from '../../src/index.js';
import { groupLags } from '../../src/flow/lag.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useSluice } from '../helpers/sluice-fixture.js';
import { waitFor } from '../helpers/wait.js';
import { calls, catchUp, createGroup, streamIds, xinfoLag } from './helpers.js';

const redis = useSluice();

function isBackpressure(pattern: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof BackpressureError, String(error));
    assert.equal(error.code, 'ERR_BACKPRESSURE');
    assert.ok(error.retryAfterMs > 0, `retryAfterMs ${error.retryAfterMs}`);
    assert.match(error.message, pattern);
    return true;
  };
}

/** Publishes one at a time until a publish is refused; resolves to the IDs stored before that and the error. */
async function publishUntilRefused(publish: (n: number) => Promise<string>, attempts: number): Promise<{ ids: string[]; error: unknown }> {
  const ids: string[] = [];
  for (let n = 0; n < attempts; n++) {
    try {
      ids.push(await publish(n));
    } catch (error) {
      return { ids, error };
    }
  }
  return { ids, error: undefined };
}

describe('backpressure', () => {
  test("onLimit 'reject': once a group lags more than maxLag, BackpressureError names the group and its lag", async () => {
    const name = `${uniquePrefix('bp')}reject`;
    const conn = redis.sluice.connection;
    await createGroup(conn, name, 'billing', '$');
    await createGroup(conn, name, 'analytics', '$');
    const stream = redis.sluice.stream(name, { backpressure: { maxLag: 5, onLimit: 'reject' } });
    const { ids, error } = await publishUntilRefused(async (n) => {
      const id = await stream.publish({ n });
      await catchUp(conn, name, 'analytics');
      return id;
    }, 20);
    // Admitted while billing lagged at most 5 entries: the sixth made it 6, the seventh is refused.
    assert.equal(ids.length, 6);
    assert.ok(error, 'a publish was refused');
    isBackpressure(new RegExp(`group billing lags 6 entries behind ${name} \\(limit 5\\)`))(error);
    assert.deepEqual(await streamIds(conn, name), ids, 'the refused event was not written');

    // Only the listed groups count: billing's lag does not hold back a producer that watches analytics.
    const watchingAnalytics = redis.sluice.stream(name, { backpressure: { maxLag: 5, groups: ['analytics'], onLimit: 'reject' } });
    await watchingAnalytics.publish({ n: 'counted-for-analytics-only' });
  });

  test("onLimit 'block': a publish waits while the group lags and resolves once its consumer catches up", async () => {
    const name = `${uniquePrefix('bp')}block`;
    const conn = redis.sluice.connection;
    await createGroup(conn, name, 'billing', '$');
    const stream = redis.sluice.stream(name, { backpressure: { maxLag: 3, cacheFor: 20 } });
    for (let n = 0; n < 4; n++) await stream.publish({ n });
    const measured = await calls(redis.server, 'xinfo|groups');
    let resolved = false;
    const blocked = stream.publish({ n: 'blocked' }).then((id) => {
      resolved = true;
      return id;
    });
    // The gate keeps measuring and keeps the publish waiting.
    await waitFor(async () => (await calls(redis.server, 'xinfo|groups')) >= measured + 3, { message: 'the gate measured the lag again' });
    assert.equal(resolved, false, 'the publish waits while billing lags 4 entries (limit 3)');
    assert.equal((await streamIds(conn, name)).length, 4);

    assert.equal((await catchUp(conn, name, 'billing')).length, 4);
    const id = await blocked;
    assert.deepEqual((await streamIds(conn, name)).slice(-1), [id]);
  });

  test("onLimit 'block' with a timeout: BackpressureError after about the timeout, nothing written", async () => {
    const name = `${uniquePrefix('bp')}block-timeout`;
    const conn = redis.sluice.connection;
    await createGroup(conn, name, 'billing', '$');
    const stream = redis.sluice.stream(name, { backpressure: { maxLag: 0, timeout: '300ms', cacheFor: 20 } });
    await stream.publish({ n: 0 });
    const started = Date.now();
    await assert.rejects(stream.publish({ n: 1 }), isBackpressure(/group billing lags 1 entries .*stayed so for 300 ms/));
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 300 && elapsed < 1300, `refused after ${elapsed} ms`);
    assert.equal((await streamIds(conn, name)).length, 1);
  });

  test('maxLen is a hard cap: the stream never holds more, one publish at a time or many at once', async () => {
    const conn = redis.sluice.connection;
    const oneByOne = redis.sluice.stream(`${uniquePrefix('bp')}cap`, { backpressure: { maxLen: 10, onLimit: 'reject' } });
    const { ids, error } = await publishUntilRefused((n) => oneByOne.publish({ n }), 30);
    assert.equal(ids.length, 10);
    isBackpressure(new RegExp(`${oneByOne.name} holds 10 entries \\(limit 10\\)`))(error);
    assert.deepEqual(await streamIds(conn, oneByOne.name), ids);

    const burst = redis.sluice.stream(`${uniquePrefix('bp')}cap-burst`, { backpressure: { maxLen: 10, onLimit: 'reject' } });
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, n) => burst.publish({ n })));
    const stored = results.filter((r) => r.status === 'fulfilled');
    for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof BackpressureError, String(r.reason));
    assert.equal(stored.length, 10);
    assert.equal((await streamIds(conn, burst.name)).length, 10);
  });

  test("maxLen with 'block': a capped publish goes through once the stream is trimmed", async () => {
    const name = `${uniquePrefix('bp')}cap-block`;
    const stream = redis.sluice.stream(name, { backpressure: { maxLen: 3, cacheFor: 20 } });
    for (let n = 0; n < 3; n++) await stream.publish({ n });
    const measured = await calls(redis.server, 'xlen');
    let resolved = false;
    const blocked = stream.publish({ n: 'capped' }).then((id) => {
      resolved = true;
      return id;
    });
    await waitFor(async () => (await calls(redis.server, 'xlen')) >= measured + 3, { message: 'the gate measured the length again' });
    assert.equal(resolved, false);
    await redis.sluice.connection.command(['XTRIM', name, 'MAXLEN', '=', '1']);
    const id = await blocked;
    assert.deepEqual((await streamIds(redis.sluice.connection, name)).slice(-1), [id]);
  });

  test('a group whose lag Redis reports as nil (after XDEL) has its lag counted, not taken as zero', async () => {
    const name = `${uniquePrefix('bp')}nil-lag`;
    const conn = redis.sluice.connection;
    await createGroup(conn, name, 'billing', '0');
    await createGroup(conn, name, 'fraud', '0');
    const ids = await redis.sluice.stream(name).publishMany(Array.from({ length: 10 }, (_, n) => ({ n })));
    // fraud reads all but the last two; then two entries ahead of both groups are deleted.
    await conn.command(['XREADGROUP', 'GROUP', 'fraud', 'c1', 'COUNT', '8', 'STREAMS', name, '>']);
    await conn.command(['XDEL', name, ids[9] as string, ids[8] as string]);
    assert.equal(await xinfoLag(conn, name, 'billing'), null, 'Redis cannot tell the lag after the XDEL');

    const guarded = redis.sluice.stream(name, { backpressure: { maxLag: 5, onLimit: 'reject' } });
    // billing is 8 entries behind: counted up to the limit + 1, it is over.
    await assert.rejects(guarded.publish({ n: 'x' }), isBackpressure(new RegExp(`group billing lags at least 6 entries behind ${name} \\(limit 5\\)`)));
    // fraud alone is not over (nothing left to deliver to it): its nil lag is counted as 0 for real.
    assert.equal(await xinfoLag(conn, name, 'fraud'), null);
    const fraudOnly = redis.sluice.stream(name, { backpressure: { maxLag: 5, groups: ['fraud'], onLimit: 'reject' } });
    await fraudOnly.publish({ n: 'y' });
    const lags = Object.fromEntries((await groupLags(conn, name)).map((l) => [l.group, l.lag]));
    assert.deepEqual(lags, { billing: 9, fraud: 1 });
  });

  describe('groups that do not exist', () => {
    interface LogLine {
      level: number;
      msg: string;
      stream?: string;
      group?: string;
      groups?: string[];
    }
    const WARN = 40;

    /** A Sluice on the file's server whose log lines are kept (pino writes to any object with write()). */
    async function loggedSluice(): Promise<{ sluice: Sluice; lines: LogLine[] }> {
      const lines: LogLine[] = [];
      const destination = { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) };
      const sluice = await connect({ url: redis.server.url, logger: pino({ level: 'info' }, destination) });
      return { sluice, lines };
    }

    /** Refused by the lag limit (cacheFor 0 here, so `retryAfterMs` is 0: the next reading is fresh). */
    function refusedFor(error: unknown, pattern: RegExp): void {
      assert.ok(error instanceof BackpressureError, String(error));
      assert.equal(error.code, 'ERR_BACKPRESSURE');
      assert.match(error.message, pattern);
    }

    const warningsAbout = (lines: LogLine[], stream: string) => lines.filter((l) => l.stream === stream && /^backpressure\.groups /.test(l.msg));

    test('a misspelled group: producers go on, one warning names it, the stream and its groups; the limit applies once it exists', async () => {
      const name = `${uniquePrefix('bp')}events:orders`;
      const { sluice, lines } = await loggedSluice();
      try {
        const conn = sluice.connection;
        await createGroup(conn, name, 'orders-db', '$');
        await createGroup(conn, name, 'orders-analytics', '$');
        const stream = sluice.stream(name, { backpressure: { maxLag: 2, groups: ['odrers-db'], onLimit: 'reject', cacheFor: 0 } });
        // No counted group exists: nothing holds the producer back (orders-db lags 6, uncounted).
        for (let n = 0; n < 6; n++) await stream.publish({ n });

        const warnings = warningsAbout(lines, name);
        assert.deepEqual(
          warnings.map((l) => ({ level: l.level, msg: l.msg, group: l.group, groups: l.groups })),
          [
            {
              level: WARN,
              msg: `backpressure.groups names \`odrers-db\`, which is not a group of ${name} (its groups: orders-analytics, orders-db): its lag is not counted until it exists`,
              group: 'odrers-db',
              groups: ['orders-analytics', 'orders-db'],
            },
          ],
          'one warning for six readings',
        );

        // Created later, the group counts from the next reading: admitted while it lags ≤ 2.
        await createGroup(conn, name, 'odrers-db', '$');
        const { ids, error } = await publishUntilRefused((n) => stream.publish({ n: `counted-${n}` }), 10);
        assert.equal(ids.length, 3);
        // Counted up to limit + 1 where Redis reports the new group's lag as nil: "at least 3".
        refusedFor(error, new RegExp(`group odrers-db lags (at least )?3 entries behind ${name} \\(limit 2\\)`));

        // Gone again: not counted, and not reported a second time.
        await conn.command(['XGROUP', 'DESTROY', name, 'odrers-db']);
        await stream.publish({ n: 'after-destroy' });
        assert.equal((await streamIds(conn, name)).length, 10);
        assert.equal(warningsAbout(lines, name).length, 1);
      } finally {
        await sluice.close();
      }
    });

    test('only the missing names are reported, the existing ones still count; a stream without groups says so', async () => {
      const name = `${uniquePrefix('bp')}events:orders`;
      const { sluice, lines } = await loggedSluice();
      try {
        const conn = sluice.connection;
        await createGroup(conn, name, 'orders-db', '$');
        const stream = sluice.stream(name, { backpressure: { maxLag: 1, groups: ['orders-db', 'fraud', 'fraud'], onLimit: 'reject', cacheFor: 0 } });
        const { ids, error } = await publishUntilRefused((n) => stream.publish({ n }), 10);
        assert.equal(ids.length, 2, 'orders-db still holds the producer back');
        refusedFor(error, new RegExp(`group orders-db lags 2 entries behind ${name} \\(limit 1\\)`));
        assert.deepEqual(
          warningsAbout(lines, name).map((l) => [l.group, l.msg]),
          [['fraud', `backpressure.groups names \`fraud\`, which is not a group of ${name} (its groups: orders-db): its lag is not counted until it exists`]],
        );

        const fresh = `${uniquePrefix('bp')}events:fresh`;
        await sluice.stream(fresh, { backpressure: { maxLag: 1, groups: ['billing'], onLimit: 'reject' } }).publish({ n: 0 });
        assert.deepEqual(
          warningsAbout(lines, fresh).map((l) => l.msg),
          [`backpressure.groups names \`billing\`, which is not a group of ${fresh} (it has no groups): its lag is not counted until it exists`],
        );
      } finally {
        await sluice.close();
      }
    });
  });
});
