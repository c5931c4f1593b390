import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useRedis } from '../helpers/fixtures.js';
import { cliLength, cliRange } from '../helpers/streams.js';
import { waitFor } from '../helpers/wait.js';
import { eventsUrl, get, order, orderFields, post, rawPost, useTestServer } from './helpers.js';

const redis = useRedis();
const app = useTestServer(redis);

const stream = () => `${uniquePrefix('ingest')}events:orders`;

describe('POST /streams/:stream/events', () => {
  test('one JSON object: 201 with its ID, and the entry holds exactly its fields', async () => {
    const name = stream();
    const reply = await post(eventsUrl(app.url, name), JSON.stringify(order()));
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    assert.match(reply.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(reply.body.ids.length, 1);
    assert.deepEqual(await cliRange(redis.server, name), [[reply.body.ids[0], orderFields()]]);
  });

  test('numbers and booleans are stored as their text', async () => {
    const name = stream();
    const reply = await post(eventsUrl(app.url, name), '{"order_id":12345,"amount":99.99,"paid":false}');
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    assert.deepEqual(await cliRange(redis.server, name), [[reply.body.ids[0], ['order_id', '12345', 'amount', '99.99', 'paid', 'false']]]);
  });

  test('a JSON array: the IDs in input order, each entry exactly its fields', async () => {
    const name = stream();
    const events = [order(0), order(1), order(2)];
    const reply = await post(eventsUrl(app.url, name), JSON.stringify(events));
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    assert.deepEqual(await cliRange(redis.server, name), reply.body.ids.map((id: string, i: number) => [id, orderFields(i)]));
  });

  test('NDJSON: one event per line (blank lines and CRLF allowed), IDs in line order', async () => {
    const name = stream();
    const body = `${JSON.stringify(order(0))}\r\n\n${JSON.stringify(order(1))}\n${JSON.stringify(order(2))}\n`;
    const reply = await post(eventsUrl(app.url, name), body, { 'Content-Type': 'application/x-ndjson' });
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    assert.equal(reply.body.ids.length, 3);
    assert.deepEqual(await cliRange(redis.server, name), reply.body.ids.map((id: string, i: number) => [id, orderFields(i)]));
  });

  test('a large batch keeps its order', async () => {
    const name = stream();
    const events = Array.from({ length: 2000 }, (_, i) => ({ seq: String(i) }));
    const reply = await post(eventsUrl(app.url, name), JSON.stringify(events));
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    const entries = await cliRange(redis.server, name);
    assert.deepEqual(entries.map(([id]) => id), reply.body.ids);
    assert.deepEqual(entries.map(([, fields]) => fields[1]), events.map((e) => e.seq));
  });

  test('?codec=json stores nested data as JSON in one `data` field', async () => {
    const name = stream();
    const event = { order_id: '12345', customer: { id: '67890', tags: ['vip'] }, lines: [{ sku: 'A1', qty: 2 }] };
    const reply = await post(eventsUrl(app.url, name, '?codec=json'), JSON.stringify(event));
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    const [[id, fields]] = (await cliRange(redis.server, name)) as [[string, string[]]];
    assert.equal(id, reply.body.ids[0]);
    assert.equal(fields[0], 'data');
    assert.deepEqual(JSON.parse(fields[1] as string), event);
  });

  test('Idempotency-Key: a repeated request returns the same IDs and stores nothing twice', async () => {
    const name = stream();
    const single = { 'Content-Type': 'application/json', 'Idempotency-Key': 'order-12345-created' };
    const first = await post(eventsUrl(app.url, name), JSON.stringify(order()), single);
    const again = await post(eventsUrl(app.url, name), JSON.stringify(order()), single);
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal(first.body.duplicates, 0);
    // The same IDs, and the answer says the event was there already.
    assert.deepEqual(again.body, { ...first.body, duplicates: 1 });
    assert.equal(await cliLength(redis.server, name), 1);

    const batch = { 'Content-Type': 'application/json', 'Idempotency-Key': 'batch-7' };
    const firstBatch = await post(eventsUrl(app.url, name), JSON.stringify([order(1), order(2)]), batch);
    const batchAgain = await post(eventsUrl(app.url, name), JSON.stringify([order(1), order(2)]), batch);
    assert.equal(firstBatch.status, 201, JSON.stringify(firstBatch.body));
    assert.equal(firstBatch.body.duplicates, 0);
    assert.deepEqual(batchAgain.body, { ...firstBatch.body, duplicates: 2 });
    assert.equal(await cliLength(redis.server, name), 3);
    // One new event in a retried batch: only the two known ones count.
    const grown = await post(eventsUrl(app.url, name), JSON.stringify([order(1), order(2), order(3)]), batch);
    assert.deepEqual(grown.body.ids.slice(0, 2), firstBatch.body.ids);
    assert.equal(grown.body.duplicates, 2);
    assert.equal(await cliLength(redis.server, name), 4);
  });
});

describe('traceparent: the client\'s trace travels with its events', () => {
  const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const json = { 'Content-Type': 'application/json' };

  /** The `$tp` values of a stream's entries, as redis-cli reads them (undefined: no `$tp`). */
  async function storedTraceparents(name: string): Promise<Array<string | undefined>> {
    return (await cliRange(redis.server, name)).map(([, fields]) => {
      const at = fields.indexOf('$tp');
      return at === -1 || at % 2 === 1 ? undefined : fields[at + 1];
    });
  }

  test('a valid header: every event of the request stores it as `$tp`, and a consumer reads it as meta.traceparent', async () => {
    const name = stream();
    const reply = await post(eventsUrl(app.url, name), JSON.stringify([order(0), order(1), order(2)]), { ...json, traceparent: TRACEPARENT });
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    assert.deepEqual(await cliRange(redis.server, name), reply.body.ids.map((id: string, i: number) => [id, [...orderFields(i), '$tp', TRACEPARENT]]));

    const seen: Array<{ id: string; traceparent: string | undefined }> = [];
    const worker = app.sluice.stream(name).consume({ group: 'billing', startFrom: '0', block: 50 }, (event) => {
      seen.push({ id: event.id, traceparent: event.meta?.traceparent });
    });
    try {
      await waitFor(() => seen.length === 3, { message: () => `the consumer saw ${JSON.stringify(seen)}` });
    } finally {
      await worker.close();
    }
    assert.deepEqual(seen, reply.body.ids.map((id: string) => ({ id, traceparent: TRACEPARENT })));
  });

  test('with Idempotency-Key and NDJSON: each event stores the trace and its own key', async () => {
    const name = stream();
    const body = `${JSON.stringify(order(0))}\n${JSON.stringify(order(1))}\n`;
    const headers = { 'Content-Type': 'application/x-ndjson', 'Idempotency-Key': 'batch-9', traceparent: TRACEPARENT };
    const reply = await post(eventsUrl(app.url, name), body, headers);
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    assert.deepEqual(
      await cliRange(redis.server, name),
      reply.body.ids.map((id: string, i: number) => [id, [...orderFields(i), '$tp', TRACEPARENT, '$idk', `batch-9:${i}`]]),
    );
    assert.deepEqual((await post(eventsUrl(app.url, name), body, headers)).body, { ...reply.body, duplicates: 2 }, 'the retry is still deduplicated');
    assert.equal(await cliLength(redis.server, name), 2);
  });

  test('a later version is stored as version 00, its extra fields dropped', async () => {
    const name = stream();
    const reply = await post(eventsUrl(app.url, name), JSON.stringify(order()), { ...json, traceparent: `cc-${TRACEPARENT.slice(3)}-what-comes-later` });
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    assert.deepEqual(await storedTraceparents(name), [TRACEPARENT]);
  });

  test('an invalid header is ignored: the request succeeds and nothing is stored in `$tp`', async () => {
    const invalid = [
      TRACEPARENT.toUpperCase(), // the spec allows lowercase hex only
      `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`, // all-zero trace ID
      `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`, // all-zero parent ID
      `ff-${TRACEPARENT.slice(3)}`, // version ff is forbidden
      `${TRACEPARENT}-extra`, // version 00 has exactly four fields
      TRACEPARENT.slice(0, 54),
      'not a traceparent',
    ];
    for (const traceparent of invalid) {
      const name = stream();
      const reply = await post(eventsUrl(app.url, name), JSON.stringify([order(0), order(1)]), { ...json, traceparent });
      assert.equal(reply.status, 201, `${traceparent}: ${JSON.stringify(reply.body)}`);
      assert.deepEqual(await cliRange(redis.server, name), reply.body.ids.map((id: string, i: number) => [id, orderFields(i)]), traceparent);
    }

    // Two headers reach the server joined by `, `: not one traceparent, so ignored as well.
    const name = stream();
    const twice = await rawPost(eventsUrl(app.url, name), { ...json, traceparent: [TRACEPARENT, TRACEPARENT] as unknown as string }, (req) => req.end(JSON.stringify(order())));
    assert.equal(twice.status, 201, twice.body);
    assert.deepEqual(await storedTraceparents(name), [undefined]);
  });

  test('tracestate travels with a valid traceparent as `$ts`; alone, or not a tracestate, it is dropped', async () => {
    const name = stream();
    const withState = await post(eventsUrl(app.url, name), JSON.stringify(order(0)), { ...json, traceparent: TRACEPARENT, tracestate: 'congo=t61rcWkgMzE, rojo=00f067aa0ba902b7' });
    const alone = await post(eventsUrl(app.url, name), JSON.stringify(order(1)), { ...json, tracestate: 'congo=t61rcWkgMzE' });
    const tooLong = await post(eventsUrl(app.url, name), JSON.stringify(order(2)), { ...json, traceparent: TRACEPARENT, tracestate: `a=${'x'.repeat(600)}` });
    for (const reply of [withState, alone, tooLong]) assert.equal(reply.status, 201, JSON.stringify(reply.body));
    assert.deepEqual(await cliRange(redis.server, name), [
      [withState.body.ids[0], [...orderFields(0), '$tp', TRACEPARENT, '$ts', 'congo=t61rcWkgMzE, rojo=00f067aa0ba902b7']],
      [alone.body.ids[0], orderFields(1)],
      [tooLong.body.ids[0], [...orderFields(2), '$tp', TRACEPARENT]],
    ]);
  });

  test('without the header, no `$tp`', async () => {
    const name = stream();
    const reply = await post(eventsUrl(app.url, name), JSON.stringify([order(0), order(1)]));
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    assert.deepEqual(await storedTraceparents(name), [undefined, undefined]);
    assert.deepEqual(await cliRange(redis.server, name), reply.body.ids.map((id: string, i: number) => [id, orderFields(i)]));
  });
});

describe('bad requests: 400 that says what and where, nothing stored', () => {
  test('malformed JSON: line, column and byte offset', async () => {
    const name = stream();
    const reply = await post(eventsUrl(app.url, name), '{\n  "order_id": "12345",\n  "amount": ,\n}');
    assert.equal(reply.status, 400);
    assert.equal(reply.body.error.code, 'ERR_MALFORMED_JSON');
    assert.match(reply.body.error.message, /^Malformed JSON at line 3, column 13 \(byte 37\): unexpected `,`, expected a value$/);
    assert.deepEqual([reply.body.error.line, reply.body.error.column, reply.body.error.offset], [3, 13, 37]);
    assert.equal(await cliLength(redis.server, name), 0);
  });

  test('malformed NDJSON: the line number, and nothing stored though earlier lines were fine', async () => {
    const name = stream();
    const body = `${JSON.stringify(order(0))}\n${JSON.stringify(order(1))}\n{"order_id": "12347" "status": "pending"}\n`;
    const reply = await post(eventsUrl(app.url, name), body, { 'Content-Type': 'application/x-ndjson' });
    assert.equal(reply.status, 400);
    assert.equal(reply.body.error.code, 'ERR_MALFORMED_JSON');
    assert.match(reply.body.error.message, /^Malformed JSON on NDJSON line 3, column 22 /);
    assert.equal(reply.body.error.line, 3);
    assert.equal(await cliLength(redis.server, name), 0);
  });

  test('a nested value: the event index and the field, and how to store nested data', async () => {
    const name = stream();
    const reply = await post(eventsUrl(app.url, name), JSON.stringify([order(0), { ...order(1), address: { city: 'Paris' } }]));
    assert.equal(reply.status, 400);
    assert.equal(reply.body.error.code, 'ERR_INVALID_FIELD');
    assert.equal(reply.body.error.index, 1);
    assert.equal(reply.body.error.field, 'address');
    assert.match(reply.body.error.message, /^Event 1: field `address` holds an object: .*\?codec=json/);
    assert.equal(await cliLength(redis.server, name), 0);
  });

  test('NDJSON errors in events name the line too', async () => {
    const name = stream();
    const reply = await post(eventsUrl(app.url, name), '{"a":"1"}\n\n["not","an","object"]\n', { 'Content-Type': 'application/x-ndjson' });
    assert.equal(reply.status, 400);
    assert.equal(reply.body.error.code, 'ERR_INVALID_EVENT');
    assert.match(reply.body.error.message, /^Event 1 \(line 3\): expected a JSON object/);
    assert.deepEqual([reply.body.error.index, reply.body.error.line], [1, 3]);
  });

  test('`$` fields stay reserved, as the codec refuses them', async () => {
    const reply = await post(eventsUrl(app.url, stream()), '{"order_id":"1","$key":"customer-1"}');
    assert.equal(reply.status, 400);
    assert.equal(reply.body.error.code, 'ERR_INVALID_FIELD');
    assert.equal(reply.body.error.field, '$key');
  });

  test('an integer too large to be read exactly is refused, not rounded', async () => {
    const reply = await post(eventsUrl(app.url, stream()), '{"order_id":12345678901234567891}');
    assert.equal(reply.status, 400);
    assert.equal(reply.body.error.field, 'order_id');
    assert.match(reply.body.error.message, /send it as a string/);
  });

  test('a bad stream name: the library\'s message', async () => {
    const reply = await post(eventsUrl(app.url, 'events orders'), JSON.stringify(order()));
    assert.equal(reply.status, 400);
    assert.deepEqual(reply.body, {
      error: { code: 'ERR_INVALID_STREAM_NAME', message: 'Invalid stream name `events orders`: expected no spaces or control characters (use `:` or `.` as separators)' },
    });
  });

  test('an empty body, an unknown codec, a form-encoded body', async () => {
    assert.equal((await post(eventsUrl(app.url, stream()), '')).body.error.code, 'ERR_NO_EVENTS');
    const codec = await post(eventsUrl(app.url, stream(), '?codec=xml'), JSON.stringify(order()));
    assert.deepEqual([codec.status, codec.body.error.code], [400, 'ERR_INVALID_OPTION']);
    const form = await post(eventsUrl(app.url, stream()), 'order_id=1', { 'Content-Type': 'application/x-www-form-urlencoded' });
    assert.deepEqual([form.status, form.body.error.code], [415, 'ERR_UNSUPPORTED_MEDIA_TYPE']);
  });

  test('a body that is not UTF-8', async () => {
    const response = await fetch(eventsUrl(app.url, stream()), { method: 'POST', body: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), headers: { 'Content-Type': 'application/json' } });
    const body = (await response.json()) as { error: { code: string; offset: number } };
    assert.equal(response.status, 400);
    assert.deepEqual([body.error.code, body.error.offset], ['ERR_MALFORMED_JSON', 6]);
  });
});

describe('routes', () => {
  test('GET /health: 200 {"status":"ok"}; GET /ready: 200 while Redis answers', async () => {
    assert.deepEqual(await get(`${app.url}/health`).then((r) => [r.status, r.body]), [200, { status: 'ok' }]);
    assert.deepEqual(await get(`${app.url}/ready`).then((r) => [r.status, r.body]), [200, { status: 'ok' }]);
    const head = await fetch(`${app.url}/health`, { method: 'HEAD' });
    assert.equal(head.status, 200);
  });

  test('unknown route 404, wrong method 405 with Allow, both as JSON errors', async () => {
    const missing = await get(`${app.url}/streams/events:orders`);
    assert.deepEqual([missing.status, missing.body.error.code], [404, 'ERR_NOT_FOUND']);
    const wrong = await get(eventsUrl(app.url, 'events:orders'));
    assert.deepEqual([wrong.status, wrong.body.error.code, wrong.headers.get('allow')], [405, 'ERR_METHOD_NOT_ALLOWED', 'POST']);
    const postHealth = await post(`${app.url}/health`, '{}');
    assert.deepEqual([postHealth.status, postHealth.headers.get('allow')], [405, 'GET, HEAD']);
  });

  test('a request that is not HTTP: 400, in JSON too', async () => {
    const { port } = new URL(app.url);
    const answer = await new Promise<string>((resolve, reject) => {
      let text = '';
      const socket = connect(Number(port), '127.0.0.1', () => socket.write('GARBAGE\r\n\r\n'));
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    assert.match(answer, /^HTTP\/1\.1 400 Bad Request\r\n/);
    assert.deepEqual(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)), { error: { code: 'ERR_BAD_REQUEST', message: 'The request is not valid HTTP' } });
  });
});
