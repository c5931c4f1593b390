import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useRedis } from '../helpers/fixtures.js';
import { cliRange } from '../helpers/streams.js';
import { eventsUrl, get, order, orderFields, post, untilStatus, useTestServer } from './helpers.js';

// AOF on: what was stored before the outage is still there after the restart.
const redis = useRedis({ appendonly: true, appendfsync: 'always' });
const app = useTestServer(redis, { commandTimeout: '1s' });

test('Redis stopped: /ready 503, /health 200, a POST 503 with nothing stored; all back after a restart', async () => {
  const name = `${uniquePrefix('down')}events:orders`;
  const before = await post(eventsUrl(app.url, name), JSON.stringify(order(0)));
  assert.equal(before.status, 201, JSON.stringify(before.body));

  await redis.server.stop();
  const notReady = await untilStatus(503, () => get(`${app.url}/ready`));
  assert.equal(notReady.body.error.code, 'ERR_NOT_CONNECTED');
  assert.equal(notReady.headers.get('retry-after'), '1');
  assert.equal((await get(`${app.url}/health`)).status, 200);

  const during = await post(eventsUrl(app.url, name), JSON.stringify([order(1), order(2)]));
  assert.equal(during.status, 503, JSON.stringify(during.body));
  assert.equal(during.headers.get('retry-after'), '1');
  assert.ok(['ERR_NOT_CONNECTED', 'ERR_TIMEOUT'].includes(during.body.error.code), during.body.error.code);
  assert.deepEqual([during.body.error.stored, during.body.error.ids], [0, [null, null]]);
  assert.doesNotMatch(during.body.error.message, /127\.0\.0\.1|redis:\/\//, 'no internal address to clients');

  await redis.server.start();
  await untilStatus(200, () => get(`${app.url}/ready`));
  const afterRestart = await untilStatus(201, () => post(eventsUrl(app.url, name), JSON.stringify(order(3))));
  // The refused events were not written later either: the stream holds the first and the last.
  assert.deepEqual(await cliRange(redis.server, name), [
    [before.body.ids[0], orderFields(0)],
    [afterRestart.body.ids[0], orderFields(3)],
  ]);
});
