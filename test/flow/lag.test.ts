import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { groupLags, type GroupLag } from '../../src/flow/lag.js';
import type { RedisConnection } from '../../src/redis/connection.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useSluice } from '../helpers/sluice-fixture.js';
import { createGroup, readNew, xinfoLag } from './helpers.js';

const redis = useSluice();

/** The true lag: entries after the group's last-delivered ID, counted one by one. */
async function trueLag(conn: RedisConnection, stream: string, lag: GroupLag): Promise<number> {
  return (await conn.command<unknown[]>(['XRANGE', stream, `(${lag.lastDeliveredId}`, '+'])).length;
}

function byGroup(lags: GroupLag[]): Record<string, Omit<GroupLag, 'group' | 'lastDeliveredId'>> {
  return Object.fromEntries(lags.map(({ group, lag, exact, pending }) => [group, { lag, exact, pending }]));
}

describe('groupLags', () => {
  test('the lag XINFO reports, and the lag counted when XINFO says nil after XDEL, are the true counts', async () => {
    const name = `${uniquePrefix('lag')}s`;
    const conn = redis.sluice.connection;
    await createGroup(conn, name, 'fresh', '0');
    await createGroup(conn, name, 'partway', '0');
    const ids = await redis.sluice.stream(name).publishMany(Array.from({ length: 10 }, (_, n) => ({ n })));
    await createGroup(conn, name, 'tail', '$');
    assert.deepEqual(await readNew(conn, name, 'partway', 3), ids.slice(0, 3));

    const reported = await groupLags(conn, name);
    assert.deepEqual(byGroup(reported), {
      fresh: { lag: 10, exact: true, pending: 0 },
      partway: { lag: 7, exact: true, pending: 3 },
      tail: { lag: 0, exact: true, pending: 0 },
    });
    for (const lag of reported) {
      assert.equal(lag.lag, await xinfoLag(conn, name, lag.group), `${lag.group}: as XINFO reports it`);
      assert.equal(lag.lag, await trueLag(conn, name, lag), `${lag.group}: the true count`);
    }

    // Two entries ahead of `fresh` and `partway` deleted: Redis no longer knows their lag.
    await conn.command(['XDEL', name, ids[5] as string, ids[8] as string]);
    assert.equal(await xinfoLag(conn, name, 'fresh'), null);
    assert.equal(await xinfoLag(conn, name, 'partway'), null);
    const counted = await groupLags(conn, name);
    assert.deepEqual(byGroup(counted), {
      fresh: { lag: 8, exact: true, pending: 0 },
      partway: { lag: 5, exact: true, pending: 3 },
      tail: { lag: 0, exact: true, pending: 0 },
    });
    for (const lag of counted) assert.equal(lag.lag, await trueLag(conn, name, lag), `${lag.group}: the true count`);

    // Counting stops at the limit, and says so.
    assert.deepEqual(byGroup(await groupLags(conn, name, 4)), {
      fresh: { lag: 4, exact: false, pending: 0 },
      partway: { lag: 4, exact: false, pending: 3 },
      tail: { lag: 0, exact: true, pending: 0 },
    });
  });

  test('counted in pages: a nil lag larger than one XRANGE page is exact', async () => {
    const name = `${uniquePrefix('lag')}pages`;
    const conn = redis.sluice.connection;
    await createGroup(conn, name, 'fresh', '0');
    const ids = await redis.sluice.stream(name).publishMany(Array.from({ length: 2500 }, (_, n) => ({ n })));
    await conn.command(['XDEL', name, ids[2499] as string]);
    assert.equal(await xinfoLag(conn, name, 'fresh'), null);
    assert.deepEqual(byGroup(await groupLags(conn, name)), { fresh: { lag: 2499, exact: true, pending: 0 } });
    assert.deepEqual(byGroup(await groupLags(conn, name, 2000)), { fresh: { lag: 2000, exact: false, pending: 0 } });
  });

  test('after trimming, the reported lag counts only entries still there', async () => {
    const name = `${uniquePrefix('lag')}trimmed`;
    const conn = redis.sluice.connection;
    await createGroup(conn, name, 'fresh', '0');
    await redis.sluice.stream(name).publishMany(Array.from({ length: 10 }, (_, n) => ({ n })));
    await conn.command(['XTRIM', name, 'MAXLEN', '=', '4']);
    const [lag] = await groupLags(conn, name);
    assert.ok(lag);
    assert.equal(lag.lag, 4);
    assert.equal(lag.lag, await trueLag(conn, name, lag));
  });

  test('a stream that does not exist has no groups and no lag', async () => {
    assert.deepEqual(await groupLags(redis.sluice.connection, `${uniquePrefix('lag')}missing`), []);
  });
});
