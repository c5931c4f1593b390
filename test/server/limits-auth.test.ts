import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useRedis } from '../helpers/fixtures.js';
import { cliLength } from '../helpers/streams.js';
import { eventsUrl, get, order, post, rawPost, useTestServer } from './helpers.js';

const TOKEN = 'tok-3f9a2c7e1b';

const redis = useRedis();
const limited = useTestServer(redis, { limits: { maxBody: '1kb', maxEvents: 3, maxFields: 4, maxValue: 16 } });
const guarded = useTestServer(redis, { token: TOKEN });
const open = useTestServer(redis);

const stream = () => `${uniquePrefix('limits')}events:orders`;

describe('limits: 413 naming the limit, nothing stored', () => {
  test('a body over maxBody (declared by Content-Length)', async () => {
    const name = stream();
    const events = Array.from({ length: 3 }, () => ({ note: 'x'.repeat(400) }));
    const reply = await post(eventsUrl(limited.url, name), JSON.stringify(events));
    assert.equal(reply.status, 413);
    assert.equal(reply.body.error.code, 'ERR_BODY_TOO_LARGE');
    assert.equal(reply.body.error.limit, 'maxBody');
    assert.equal(reply.body.error.max, 1024);
    assert.match(reply.body.error.message, /1 KiB/);
    assert.equal(reply.headers.get('connection'), 'close');
    assert.equal(await cliLength(redis.server, name), 0);
  });

  test('a chunked body that grows past maxBody', async () => {
    const name = stream();
    const reply = await rawPost(eventsUrl(limited.url, name), { 'Content-Type': 'application/x-ndjson' }, (req) => {
      for (let i = 0; i < 40; i++) req.write(`${JSON.stringify({ order_id: String(i), pad: 'xxxxxxxx' })}\n`);
      req.end();
    });
    assert.equal(reply.status, 413);
    assert.equal(JSON.parse(reply.body).error.code, 'ERR_BODY_TOO_LARGE');
    assert.equal(await cliLength(redis.server, name), 0);
  });

  test('Expect: 100-continue with a body too large: refused before the client sends it', async () => {
    const reply = await rawPost(eventsUrl(limited.url, stream()), { 'Content-Type': 'application/json', 'Content-Length': '5000', Expect: '100-continue' }, () => {
      // The body is sent only on `continue`, which must not come.
    });
    assert.equal(reply.status, 413);
    assert.equal(reply.continued, false);
  });

  test('more events than maxEvents', async () => {
    const name = stream();
    const reply = await post(eventsUrl(limited.url, name), JSON.stringify([{ a: '1' }, { a: '2' }, { a: '3' }, { a: '4' }]));
    assert.equal(reply.status, 413);
    assert.deepEqual([reply.body.error.code, reply.body.error.limit, reply.body.error.max], ['ERR_TOO_MANY_EVENTS', 'maxEvents', 3]);
    assert.equal(await cliLength(redis.server, name), 0);
  });

  test('more fields than maxFields', async () => {
    const name = stream();
    const reply = await post(eventsUrl(limited.url, name), JSON.stringify([{ a: '1' }, { a: '1', b: '2', c: '3', d: '4', e: '5' }]));
    assert.equal(reply.status, 413);
    assert.deepEqual([reply.body.error.code, reply.body.error.limit, reply.body.error.index], ['ERR_TOO_MANY_FIELDS', 'maxFields', 1]);
    assert.match(reply.body.error.message, /^Event 1: expected at most 4 fields per event \(maxFields\), got 5$/);
    assert.equal(await cliLength(redis.server, name), 0);
  });

  test('a field value larger than maxValue', async () => {
    const name = stream();
    const reply = await post(eventsUrl(limited.url, name), JSON.stringify({ order_id: '12345', note: 'é'.repeat(9) }));
    assert.equal(reply.status, 413);
    assert.deepEqual([reply.body.error.code, reply.body.error.field, reply.body.error.limit], ['ERR_VALUE_TOO_LARGE', 'note', 'maxValue']);
    assert.match(reply.body.error.message, /holds 18 bytes, over the limit of 16 bytes/);
    assert.equal(await cliLength(redis.server, name), 0);
  });

  test('within every limit: 201', async () => {
    const reply = await post(eventsUrl(limited.url, stream()), JSON.stringify([{ a: '1', b: '2', c: '3', d: '0123456789abcdef' }]));
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
  });
});

describe('bearer-token auth', () => {
  test('no token: 401 with WWW-Authenticate: Bearer, nothing stored', async () => {
    const name = stream();
    const reply = await post(eventsUrl(guarded.url, name), JSON.stringify(order()));
    assert.equal(reply.status, 401);
    assert.equal(reply.body.error.code, 'ERR_UNAUTHORIZED');
    assert.equal(reply.headers.get('www-authenticate'), 'Bearer realm="sluice"');
    assert.equal(await cliLength(redis.server, name), 0);
  });

  test('a wrong token: 401 invalid_token', async () => {
    const reply = await post(eventsUrl(guarded.url, stream()), JSON.stringify(order()), { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}x` });
    assert.equal(reply.status, 401);
    assert.equal(reply.headers.get('www-authenticate'), 'Bearer realm="sluice", error="invalid_token"');
  });

  test('the right token: 201', async () => {
    const name = stream();
    const reply = await post(eventsUrl(guarded.url, name), JSON.stringify(order()), { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` });
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    assert.equal(await cliLength(redis.server, name), 1);
  });

  test('/health and /ready need no token (probes)', async () => {
    assert.equal((await get(`${guarded.url}/health`)).status, 200);
    assert.equal((await get(`${guarded.url}/ready`)).status, 200);
  });

  test('no token configured: the API is open', async () => {
    const reply = await post(eventsUrl(open.url, stream()), JSON.stringify(order()));
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
  });
});
