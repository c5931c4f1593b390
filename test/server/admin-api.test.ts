import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { describe, test } from 'node:test';
import { NonRetryableError } from '../../src/index.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useRedis } from '../helpers/fixtures.js';
import { clientList, cliLength, cliRange, commandCalls } from '../helpers/streams.js';
import { waitFor } from '../helpers/wait.js';
import { get, post, startTestServer, type TestServer } from './helpers.js';
import { openSse, type SseClient } from './sse-client.js';

const redis = useRedis();

const TOKEN = 'admin-test-token-42';
const auth = { Authorization: `Bearer ${TOKEN}` };
const json = { 'Content-Type': 'application/json' };

function api(base: string, stream: string, rest: string): string {
  return `${base}/api/streams/${encodeURIComponent(stream)}/${rest}`;
}

/** Runs `work` with a server of its own, closed at the end (which ends the event streams still open). */
async function withServer(options: Parameters<typeof startTestServer>[1], work: (t: TestServer) => Promise<void>): Promise<void> {
  const t = await startTestServer(redis.server, options);
  try {
    await work(t);
  } finally {
    await t.close();
  }
}

describe('auth and static files', () => {
  test('with a token: every admin route answers 401 without it; the page and its assets are public', async () => {
    await withServer({ token: TOKEN }, async ({ url }) => {
      const stream = `${uniquePrefix('auth')}orders`;
      const refused = [
        await get(`${url}/api/overview`),
        await get(api(url, stream, 'dead-letters')),
        await post(api(url, stream, 'dead-letters/redrive'), JSON.stringify({ confirm: true, all: true }), json),
        await post(api(url, stream, 'dead-letters/purge'), JSON.stringify({ confirm: true }), json),
        await get(`${url}/api/overview`, { headers: { Authorization: 'Bearer wrong-token' } }),
      ];
      for (const reply of refused) assert.deepEqual([reply.status, reply.body.error.code], [401, 'ERR_UNAUTHORIZED']);
      for (const path of ['/api/overview/stream', `/api/streams/${encodeURIComponent(stream)}/tail`]) {
        const response = await fetch(`${url}${path}`);
        assert.equal(response.status, 401, path);
        assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
        await response.body?.cancel();
      }
      const allowed = await get(`${url}/api/overview`, { headers: auth });
      assert.equal(allowed.status, 200);
      assert.ok(Array.isArray(allowed.body.streams));

      const page = await fetch(`${url}/`);
      assert.equal(page.status, 200);
      assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
      const csp = page.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'self'/);
      assert.match(csp, /connect-src 'self'/);
      assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
      const html = await page.text();
      assert.match(html, /<script type="module" src="\/dashboard\/app\.js"><\/script>/);
      assert.doesNotMatch(html, /https?:\/\//, 'nothing is loaded from another origin');
    });
  });

  test('assets: each with its type, an ETag answered 304, and a 404 for any other name', async () => {
    await withServer({}, async ({ url }) => {
      const types: Record<string, RegExp> = { 'app.js': /^text\/javascript/, 'style.css': /^text\/css/, 'uplot.js': /^text\/javascript/, 'uplot.css': /^text\/css/ };
      for (const [name, type] of Object.entries(types)) {
        const response = await fetch(`${url}/dashboard/${name}`);
        assert.equal(response.status, 200, name);
        assert.match(response.headers.get('content-type') ?? '', type, name);
        assert.equal(response.headers.get('cache-control'), 'no-cache', name);
        const etag = response.headers.get('etag');
        assert.match(etag ?? '', /^"[\w-]+"$/, name);
        assert.ok((await response.text()).length > 100, name);
        const again = await fetch(`${url}/dashboard/${name}`, { headers: { 'If-None-Match': etag as string } });
        assert.equal(again.status, 304, name);
        assert.equal(await again.text(), '');
      }
      const app = await (await fetch(`${url}/dashboard/app.js`)).text();
      assert.match(app, /\/api\/overview\/stream/);
      const missing = await get(`${url}/dashboard/secrets.json`);
      assert.deepEqual([missing.status, missing.body.error.code], [404, 'ERR_NOT_FOUND']);
      const traversal = await get(`${url}/dashboard/..%2F..%2Fpackage.json`);
      assert.equal(traversal.status, 404);
    });
  });
});

describe('overview', () => {
  test('GET /api/overview: the stream, its group and its lag', async () => {
    await withServer({}, async ({ url, sluice }) => {
      const name = `${uniquePrefix('overview')}orders`;
      const stream = sluice.stream(name);
      for (let i = 0; i < 5; i++) await stream.publish({ order_id: String(i) });
      await redis.server.cli('XGROUP', 'CREATE', name, 'billing', '0');
      const reply = await get(`${url}/api/overview`);
      assert.equal(reply.status, 200);
      const found = reply.body.streams.find((s: { name: string }) => s.name === name);
      assert.ok(found, `stream ${name} in ${JSON.stringify(reply.body.streams.map((s: { name: string }) => s.name))}`);
      assert.equal(found.length, 5);
      assert.deepEqual(
        found.groups.map((g: { name: string; lag: number; pending: number }) => [g.name, g.lag, g.pending]),
        [['billing', 5, 0]],
      );
      assert.ok(Array.isArray(reply.body.alerts));
      assert.equal(reply.body.truncated, false);
    });
  });

  test('GET /api/overview/stream: an overview event per refresh, one read shared by every client, released when they go', async () => {
    await withServer({ token: TOKEN }, async ({ url, sluice, server }) => {
      const name = `${uniquePrefix('sse')}orders`;
      const stream = sluice.stream(name);
      await stream.publish({ order_id: '1' });
      const scansBefore = await commandCalls(redis.server, 'scan');
      const clients = await Promise.all(Array.from({ length: 4 }, () => openSse(`${url}/api/overview/stream`, auth)));
      for (const client of clients) {
        assert.equal(client.status, 200);
        assert.equal(client.headers.get('content-type'), 'text/event-stream; charset=utf-8');
        assert.equal(client.headers.get('cache-control'), 'no-store');
      }
      const received = await Promise.all(clients.map((client) => client.waitForEvents('overview', 3)));
      const scans = (await commandCalls(redis.server, 'scan')) - scansBefore;
      // One SCAN per read: four clients that each received three refreshes cost about three reads, not twelve.
      const most = Math.max(...clients.map((client) => client.events.filter((e) => e.event === 'overview').length));
      assert.ok(scans <= most + 1, `${scans} reads for ${most} refreshes per client`);
      const first = JSON.parse((received[0] as Array<{ data: string }>)[0]!.data);
      assert.ok(first.streams.some((s: { name: string }) => s.name === name));
      const times = (received[0] as Array<{ data: string }>).map((e) => JSON.parse(e.data).at as number);
      assert.ok(times[0]! < times[1]! && times[1]! < times[2]!, `refresh times ${times}`);

      // A change shows in the next refreshes.
      await stream.publish({ order_id: '2' });
      await waitFor(() => clients[0]!.events.some((e) => e.event === 'overview' && JSON.parse(e.data).streams.some((s: { name: string; length: number }) => s.name === name && s.length === 2)), {
        message: 'an overview with the new length',
      });

      for (const client of clients) client.close();
      await waitFor(() => server.inFlight === 0, { message: () => `${server.inFlight} requests still in flight after the clients left` });
    });
  });

  test('closing the server ends the open event streams at once', async () => {
    const t = await startTestServer(redis.server, { shutdownTimeout: '30s' });
    const name = `${uniquePrefix('close')}orders`;
    const overview = await openSse(`${t.url}/api/overview/stream`);
    const tail = await openSse(api(t.url, name, 'tail'));
    await overview.waitForEvents('overview', 1);
    await tail.waitForEvents('ready', 1);
    const started = Date.now();
    await t.close();
    const took = Date.now() - started;
    assert.ok(took < 5000, `close took ${took} ms with two event streams open (shutdown timeout 30 s)`);
    await Promise.all([overview.done, tail.done]);
    assert.ok(overview.ended && tail.ended);
  });
});

describe('live tail', () => {
  test('only events published after it started, filtered by field and value; its connection is released when the client goes', async () => {
    await withServer({}, async ({ url, sluice, server }) => {
      const name = `${uniquePrefix('tail')}orders`;
      const stream = sluice.stream(name);
      await stream.publish({ order_id: 'old', status: 'paid' });
      const connectionsBefore = (await clientList(redis.server)).length;
      const tail = await openSse(`${api(url, name, 'tail')}?field=status&value=paid`);
      assert.equal(tail.status, 200);
      const [ready] = await tail.waitForEvents('ready', 1);
      assert.deepEqual(JSON.parse(ready!.data), { stream: name, from: (await cliRange(redis.server, name))[0]![0], field: 'status', value: 'paid' });

      const ids = [];
      for (const [order_id, status] of [['1', 'pending'], ['2', 'paid'], ['3', 'shipped'], ['4', 'paid'], ['5', 'pending']] as const) {
        ids.push(await stream.publish({ order_id, status }));
      }
      const marker = await stream.publish({ order_id: 'last', status: 'paid' });
      const entries = (await tail.waitForEvents('entry', 3)).map((e) => JSON.parse(e.data));
      assert.deepEqual(
        entries.map((e) => [e.id, e.fields]),
        [
          [ids[1], { order_id: '2', status: 'paid' }],
          [ids[3], { order_id: '4', status: 'paid' }],
          [marker, { order_id: 'last', status: 'paid' }],
        ],
      );
      assert.equal(typeof entries[0].time, 'number');

      // Only the tail's own blocking connection was added, and it goes with the client.
      assert.equal((await clientList(redis.server)).length, connectionsBefore + 1);
      tail.close();
      await waitFor(async () => (await clientList(redis.server)).length === connectionsBefore, { message: 'the tail connection closed' });
      await waitFor(() => server.inFlight === 0, { message: 'the tail request ended' });
    });
  });

  test('a field alone keeps the events that have it; a value without a field is a 400', async () => {
    await withServer({}, async ({ url, sluice }) => {
      const name = `${uniquePrefix('tail')}orders`;
      const stream = sluice.stream(name);
      const tail = await openSse(`${api(url, name, 'tail')}?field=coupon`);
      await tail.waitForEvents('ready', 1);
      await stream.publish({ order_id: '1' });
      const withCoupon = await stream.publish({ order_id: '2', coupon: 'SPRING' });
      await stream.publish({ order_id: '3' });
      const marker = await stream.publish({ order_id: '4', coupon: '' });
      const entries = (await tail.waitForEvents('entry', 2)).map((e) => JSON.parse(e.data).id);
      assert.deepEqual(entries, [withCoupon, marker]);
      tail.close();

      const bad = await get(`${api(url, name, 'tail')}?value=paid`);
      assert.deepEqual([bad.status, bad.body.error.code], [400, 'ERR_INVALID_OPTION']);
      const badName = await get(`${api(url, 'has space', 'tail')}`);
      assert.deepEqual([badName.status, badName.body.error.code], [400, 'ERR_INVALID_STREAM_NAME']);
    });
  });

  test('each event carries its stream ID as the SSE id: a client reconnecting with Last-Event-ID misses nothing and gets nothing twice', async () => {
    await withServer({}, async ({ url, sluice }) => {
      const name = `${uniquePrefix('tail')}orders`;
      const stream = sluice.stream(name);
      const first = await openSse(api(url, name, 'tail'));
      const [ready] = await first.waitForEvents('ready', 1);
      assert.equal(ready!.id, JSON.parse(ready!.data).from);
      const before = [await stream.publish({ order_id: '1' }), await stream.publish({ order_id: '2' })];
      const received = await first.waitForEvents('entry', 2);
      assert.deepEqual(received.map((e) => e.id), before);
      assert.deepEqual(received.map((e) => JSON.parse(e.data).id), before);
      first.close();

      // Published while the client was away: the reconnect, with the same URL, resumes after the last ID it got.
      const missed = [await stream.publish({ order_id: '3' }), await stream.publish({ order_id: '4' })];
      const again = await openSse(api(url, name, 'tail'), { 'Last-Event-ID': before[1]! });
      const [resumed] = await again.waitForEvents('ready', 1);
      assert.equal(JSON.parse(resumed!.data).from, before[1]);
      const after = await stream.publish({ order_id: '5' });
      const entries = await again.waitForEvents('entry', 3);
      assert.deepEqual(entries.map((e) => e.id), [...missed, after]);
      again.close();

      const bad = await get(api(url, name, 'tail'), { headers: { 'Last-Event-ID': 'yesterday' } });
      assert.deepEqual([bad.status, bad.body.error.code], [400, 'ERR_INVALID_STREAM_ID']);
      assert.match(bad.body.error.message, /Last-Event-ID header to be a stream ID like 1692632086370-0 .*got `yesterday`/);
    });
  });

  test('?from= and ?since= replay history, then follow; both at once, or a bad value, is a 400', async () => {
    await withServer({}, async ({ url, sluice }) => {
      const name = `${uniquePrefix('tail')}orders`;
      const now = Date.now();
      // Two hours and one minute old, by explicit IDs; then one published now.
      const old = `${now - 7_200_000}-0`;
      const recent = `${now - 60_000}-0`;
      await redis.server.cli('XADD', name, old, 'order_id', 'old');
      await redis.server.cli('XADD', name, recent, 'order_id', 'recent');

      const all = await openSse(`${api(url, name, 'tail')}?from=0`);
      assert.equal(JSON.parse((await all.waitForEvents('ready', 1))[0]!.data).from, '0-0');
      assert.deepEqual((await all.waitForEvents('entry', 2)).map((e) => e.id), [old, recent]);

      const lastHour = await openSse(`${api(url, name, 'tail')}?since=1h`);
      await lastHour.waitForEvents('ready', 1);
      const live = await sluice.stream(name).publish({ order_id: 'live' });
      assert.deepEqual((await lastHour.waitForEvents('entry', 2)).map((e) => e.id), [recent, live]);
      assert.deepEqual((await all.waitForEvents('entry', 3)).map((e) => e.id), [old, recent, live]);

      const afterId = await openSse(`${api(url, name, 'tail')}?from=${encodeURIComponent(recent)}`);
      assert.deepEqual((await afterId.waitForEvents('entry', 1)).map((e) => e.id), [live]);
      for (const tail of [all, lastHour, afterId]) tail.close();

      for (const [query, code, message] of [
        ['from=0&since=1h', 'ERR_INVALID_OPTION', /Expected `from` or `since`, not both/],
        ['since=15', 'ERR_INVALID_TIME', /Expected `since` to be a duration with a unit/],
        ['from=yesterday', 'ERR_INVALID_STREAM_ID', /got `yesterday`/],
      ] as const) {
        const bad = await get(`${api(url, name, 'tail')}?${query}`);
        assert.deepEqual([bad.status, bad.body.error.code], [400, code], query);
        assert.match(bad.body.error.message, message);
      }
    });
  });

  test('a client gone while the tail was starting leaves nothing behind', async () => {
    await withServer({}, async ({ url, server }) => {
      const name = `${uniquePrefix('tail')}orders`;
      const connectionsBefore = (await clientList(redis.server)).length;
      // Redis holds every command for a while: the tail waits on its first one, the client leaves.
      await redis.server.cli('CLIENT', 'PAUSE', '1000', 'ALL');
      const request = httpRequest(api(url, name, 'tail'), { agent: false });
      request.on('error', () => undefined);
      request.end();
      await waitFor(() => server.inFlight === 1, { message: 'the tail request in flight' });
      request.destroy();
      await waitFor(() => server.inFlight === 0, { timeout: 10_000, message: () => `${server.inFlight} requests still in flight after the client left` });
      await waitFor(async () => (await clientList(redis.server)).length === connectionsBefore, { message: 'no tail connection left open' });
    });
  });

  test('at most 16 tails at once: the next is a 429 until one closes', async () => {
    await withServer({}, async ({ url }) => {
      const name = `${uniquePrefix('tail')}orders`;
      const tails = await Promise.all(Array.from({ length: 16 }, () => openSse(api(url, name, 'tail'))));
      await Promise.all(tails.map((tail) => tail.waitForEvents('ready', 1)));
      const refused = await get(api(url, name, 'tail'));
      assert.deepEqual([refused.status, refused.body.error.code, refused.headers.get('retry-after')], [429, 'ERR_TOO_MANY_TAILS', '5']);
      tails[0]!.close();
      let next: SseClient | undefined;
      await waitFor(async () => {
        const attempt = await openSse(api(url, name, 'tail'));
        if (attempt.status === 200) next = attempt;
        else attempt.close();
        return next !== undefined;
      }, { message: 'a tail accepted after one closed' });
      await next!.waitForEvents('ready', 1);
      for (const tail of [...tails, next!]) tail.close();
    });
  });
});

describe('dead letters', () => {
  /** A stream with three dead letters (its worker refuses every event, then is closed). */
  async function deadLettered(t: TestServer): Promise<{ name: string; originals: string[] }> {
    const name = `${uniquePrefix('dlq')}orders`;
    const stream = t.sluice.stream(name);
    const worker = stream.consume({ group: 'billing', block: 50 }, (event) => {
      throw new NonRetryableError(`order ${event.fields.order_id} is malformed`);
    });
    await worker.ready;
    const originals = [];
    for (let i = 1; i <= 3; i++) originals.push(await stream.publish({ order_id: String(i) }));
    await waitFor(async () => (await cliLength(redis.server, `{${name}}:dlq`)) === 3, { message: 'three dead letters' });
    await worker.close();
    return { name, originals };
  }

  test('list, page by page', async () => {
    await withServer({}, async (t) => {
      const { name, originals } = await deadLettered(t);
      const first = await get(`${api(t.url, name, 'dead-letters')}?count=2`);
      assert.equal(first.status, 200);
      assert.equal(first.body.size, 3);
      assert.equal(first.body.key, `{${name}}:dlq`);
      assert.equal(first.body.deadLetters.length, 2);
      assert.equal(first.body.next, first.body.deadLetters[1].id);
      const second = await get(`${api(t.url, name, 'dead-letters')}?count=2&after=${first.body.next}`);
      assert.equal(second.body.deadLetters.length, 1);
      assert.equal(second.body.next, null);
      const all = [...first.body.deadLetters, ...second.body.deadLetters];
      assert.deepEqual(all.map((l: { originalId: string }) => l.originalId).sort(), [...originals].sort());
      assert.deepEqual(
        all.map((l: { reason: string; group: string; fields: Record<string, string> }) => [l.reason, l.group, Object.keys(l.fields)]),
        Array(3).fill(['non-retryable', 'billing', ['order_id']]),
      );
      for (const query of ['count=0', 'count=1001', 'count=ten']) {
        const bad = await get(`${api(t.url, name, 'dead-letters')}?${query}`);
        assert.deepEqual([bad.status, bad.body.error.code], [400, 'ERR_INVALID_OPTION'], query);
      }
      const badAfter = await get(`${api(t.url, name, 'dead-letters')}?after=yesterday`);
      assert.deepEqual([badAfter.status, badAfter.body.error.code], [400, 'ERR_INVALID_STREAM_ID']);
    });
  });

  test('redrive and purge refuse without {"confirm": true} (and without a JSON content type), then do what they say', async () => {
    await withServer({}, async (t) => {
      const { name } = await deadLettered(t);
      const dlqKey = `{${name}}:dlq`;
      const letters = (await get(api(t.url, name, 'dead-letters'))).body.deadLetters as Array<{ id: string; fields: Record<string, string> }>;
      const redriveUrl = api(t.url, name, 'dead-letters/redrive');
      const purgeUrl = api(t.url, name, 'dead-letters/purge');

      for (const body of [{ ids: [letters[0]!.id] }, { confirm: 'yes', all: true }, {}]) {
        const reply = await post(redriveUrl, JSON.stringify(body), json);
        assert.deepEqual([reply.status, reply.body.error.code], [400, 'ERR_CONFIRMATION_REQUIRED'], JSON.stringify(body));
      }
      for (const body of [{}, { confirm: false }]) {
        const reply = await post(purgeUrl, JSON.stringify(body), json);
        assert.deepEqual([reply.status, reply.body.error.code], [400, 'ERR_CONFIRMATION_REQUIRED'], JSON.stringify(body));
      }
      // A cross-site form or text/plain request cannot carry the confirmation.
      const plain = await post(purgeUrl, JSON.stringify({ confirm: true }), { 'Content-Type': 'text/plain' });
      assert.deepEqual([plain.status, plain.body.error.code], [415, 'ERR_UNSUPPORTED_MEDIA_TYPE']);
      const malformed = await post(purgeUrl, '{"confirm": tru', json);
      assert.deepEqual([malformed.status, malformed.body.error.code], [400, 'ERR_MALFORMED_JSON']);
      const badIds = await post(redriveUrl, JSON.stringify({ confirm: true, ids: ['nope'] }), json);
      assert.deepEqual([badIds.status, badIds.body.error.code], [400, 'ERR_INVALID_BODY']);
      assert.equal(await cliLength(redis.server, dlqKey), 3, 'nothing moved by the refused requests');
      assert.equal(await cliLength(redis.server, name), 3);

      const redriven = await post(redriveUrl, JSON.stringify({ confirm: true, ids: [letters[0]!.id] }), json);
      assert.equal(redriven.status, 200, JSON.stringify(redriven.body));
      assert.equal(redriven.body.redriven, 1);
      const newId = redriven.body.ids[letters[0]!.id];
      const entries = await cliRange(redis.server, name);
      assert.equal(entries.length, 4);
      const [lastId, lastFields] = entries[3]!;
      assert.equal(lastId, newId);
      assert.deepEqual(lastFields.slice(0, 2), ['order_id', letters[0]!.fields.order_id]);
      assert.ok(lastFields.includes('$redriven'), `the redriven event says so: ${lastFields}`);
      assert.equal(await cliLength(redis.server, dlqKey), 2);

      const purged = await post(purgeUrl, JSON.stringify({ confirm: true }), json);
      assert.deepEqual([purged.status, purged.body], [200, { purged: 2 }]);
      assert.equal(await cliLength(redis.server, dlqKey), 0);

      // Redrive all on an empty queue moves nothing.
      const none = await post(redriveUrl, JSON.stringify({ confirm: true, all: true }), json);
      assert.deepEqual([none.status, none.body], [200, { redriven: 0, ids: {} }]);
    });
  });
});

describe('groups', () => {
  test('reset by position or by duration, with confirm; delete refused (409) while a consumer runs, then forced; 400s and 404s say why', async () => {
    await withServer({}, async ({ url, sluice }) => {
      const name = `${uniquePrefix('groups')}orders`;
      const now = Date.now();
      const ids = [`${now - 7_200_000}-0`, `${now - 1_800_000}-0`, `${now - 60_000}-0`];
      for (const id of ids) await redis.server.cli('XADD', name, id, 'order_id', id);
      await sluice.stream(name).createGroup('billing');
      const group = (rest: string) => api(url, name, `groups/billing/${rest}`);

      const toStart = await post(group('reset'), JSON.stringify({ confirm: true, to: '0' }));
      assert.equal(toStart.status, 200);
      assert.deepEqual(toStart.body, { stream: name, group: 'billing', lastDeliveredId: '0-0', lag: 3, pending: 0, previousId: ids[2] });
      const lastHour = await post(group('reset'), JSON.stringify({ confirm: true, since: '1h' }));
      assert.deepEqual([lastHour.status, lastHour.body.lag, lastHour.body.previousId], [200, 2, '0-0']);
      assert.equal((await cliRange(redis.server, name)).length, 3, 'the stream is untouched');

      for (const [body, code, message] of [
        [{ to: '0' }, 'ERR_CONFIRMATION_REQUIRED', /"confirm": true in the body to move the group/],
        [{ confirm: true }, 'ERR_INVALID_OPTION', /got neither/],
        [{ confirm: true, to: '0', since: '1h' }, 'ERR_INVALID_OPTION', /got both/],
        [{ confirm: true, since: '15' }, 'ERR_INVALID_TIME', /`since` to be a duration with a unit/],
        [{ confirm: true, to: 'yesterday' }, 'ERR_INVALID_STREAM_ID', /got `yesterday`/],
        [{ confirm: true, to: 5 }, 'ERR_INVALID_OPTION', /`to` to be a string/],
      ] as const) {
        const bad = await post(group('reset'), JSON.stringify(body));
        assert.deepEqual([bad.status, bad.body.error.code], [400, code], JSON.stringify(body));
        assert.match(bad.body.error.message, message);
      }
      const missing = await post(api(url, name, 'groups/nope/reset'), JSON.stringify({ confirm: true, to: '0' }));
      assert.deepEqual([missing.status, missing.body.error.code], [404, 'ERR_NO_GROUP']);
      const noStream = await post(api(url, `${name}:missing`, 'groups/billing/delete'), JSON.stringify({ confirm: true }));
      assert.deepEqual([noStream.status, noStream.body.error.code], [404, 'ERR_NO_STREAM']);

      await redis.server.cli('XREADGROUP', 'GROUP', 'billing', 'worker-1', 'COUNT', '1', 'STREAMS', name, '>');
      const refused = await post(group('delete'), JSON.stringify({ confirm: true }));
      assert.deepEqual([refused.status, refused.body.error.code], [409, 'ERR_GROUP_ACTIVE']);
      assert.match(refused.body.error.message, /running consumer, `worker-1`/);
      const unconfirmed = await post(group('delete'), JSON.stringify({ force: true }));
      assert.deepEqual([unconfirmed.status, unconfirmed.body.error.code], [400, 'ERR_CONFIRMATION_REQUIRED']);
      const forced = await post(group('delete'), JSON.stringify({ confirm: true, force: true }));
      assert.deepEqual([forced.status, forced.body], [200, { stream: name, group: 'billing', pending: 1 }]);
      assert.equal(await redis.server.cli('XINFO', 'GROUPS', name), '');
    });
  });
});
