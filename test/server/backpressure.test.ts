import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useRedis } from '../helpers/fixtures.js';
import { cliLength } from '../helpers/streams.js';
import { eventsUrl, order, post, untilStatus, useTestServer } from './helpers.js';

const redis = useRedis();
const app = useTestServer(redis, { stream: { backpressure: { maxLag: 5, maxLen: 50, onLimit: 'reject' } } });

async function xadd(stream: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await redis.server.cli('XADD', stream, '*', 'order_id', String(i));
}

test('a group lagging past maxLag: 429 with Retry-After, nothing stored; 201 again once it caught up', async () => {
  const name = `${uniquePrefix('bp')}events:orders`;
  await xadd(name, 6);
  await redis.server.cli('XGROUP', 'CREATE', name, 'billing', '0');

  const refused = await post(eventsUrl(app.url, name), JSON.stringify([order(0), order(1)]));
  assert.equal(refused.status, 429, JSON.stringify(refused.body));
  assert.equal(refused.headers.get('retry-after'), '1');
  assert.equal(refused.body.error.code, 'ERR_BACKPRESSURE');
  assert.match(refused.body.error.message, /group billing lags 6 entries behind .* \(limit 5\)/);
  assert.deepEqual([refused.body.error.stored, refused.body.error.ids], [0, [null, null]]);
  assert.equal(await cliLength(redis.server, name), 6);

  // The group reads everything: its lag is 0, and publishing resumes once the cached reading expires.
  await redis.server.cli('XREADGROUP', 'GROUP', 'billing', 'c1', 'COUNT', '100', 'STREAMS', name, '>');
  const accepted = await untilStatus(201, () => post(eventsUrl(app.url, name), JSON.stringify(order(2))));
  assert.equal(accepted.body.ids.length, 1);
  assert.equal(await cliLength(redis.server, name), 7);
});

test('a stream at maxLen: 429 (the stream is not trimmed)', async () => {
  const name = `${uniquePrefix('bp')}events:orders`;
  await redis.server.cli('EVAL', "for i = 1, 50 do redis.call('XADD', KEYS[1], '*', 'n', i) end", '1', name);
  const refused = await post(eventsUrl(app.url, name), JSON.stringify(order()));
  assert.equal(refused.status, 429, JSON.stringify(refused.body));
  assert.match(refused.body.error.message, /holds 50 entries \(limit 50\)/);
  assert.equal(await cliLength(redis.server, name), 50);
});
