import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../src/redis/managed-server.js';
import { SinkRejectedError, SinkUnavailableError, signWebhook, verifyWebhookSignature, WebhookSink, type SinkEvent, type WebhookSinkOptions } from '../../src/index.js';
import { waitFor } from '../helpers/wait.js';
import { context, orderEvents, sinkConformance, type SinkUnderTest } from './conformance.js';
import { startReceiver, type Receiver } from './helpers/http-receiver.js';

const SECRET = 'whsec_test_0123456789';
const FAST_RETRIES = { retries: 2, backoff: { initial: 5, max: 20 }, timeout: '2s' } as const;

function webhookFactory(mode: 'batch' | 'event') {
  return async (): Promise<SinkUnderTest> => {
    const receiver = await startReceiver({ secret: SECRET });
    receiver.refuseEvent = (event) => event.fields?.poison === 'yes';
    const sink = new WebhookSink({ url: receiver.url, secret: SECRET, mode, ...FAST_RETRIES });
    return {
      sink,
      read: async () => receiver.accepted.map((e) => ({ id: e.id, fields: e.fields as Record<string, string> })),
      fail: async () => {
        receiver.behaviour = { status: 503 };
        return async () => {
          receiver.behaviour = { status: 200 };
        };
      },
      reject: async () => {
        receiver.behaviour = { status: 422, body: 'unknown schema' };
        return async () => {
          receiver.behaviour = { status: 200 };
        };
      },
      poison: (event: SinkEvent) => ({ ...event, fields: { ...event.fields, poison: 'yes' } }),
      dispose: async () => {
        // Every request the sink sent was signed with the secret, over the body as sent.
        assert.ok(receiver.requests.every((r) => r.signatureValid === true), 'every request carries a valid signature');
        await receiver.close();
      },
    };
  };
}

// Concurrent requests of one batch may arrive in any order: `ordered` is not claimed.
sinkConformance('webhook (batch)', { idempotent: false, ordered: false, storesFields: true, transientFailure: true, rejectsWrites: true, poisonEvent: 'batch' }, webhookFactory('batch'));
sinkConformance('webhook (event)', { idempotent: false, ordered: false, storesFields: true, transientFailure: true, rejectsWrites: true, poisonEvent: 'event' }, webhookFactory('event'));

describe('webhook sink', () => {
  let receiver: Receiver;

  before(async () => {
    receiver = await startReceiver({ secret: SECRET });
  });

  after(async () => {
    await receiver?.close();
  });

  function sink(options: Partial<WebhookSinkOptions> = {}): WebhookSink {
    receiver.reset();
    return new WebhookSink({ url: receiver.url, secret: SECRET, ...FAST_RETRIES, ...options });
  }

  test('POSTs a JSON body with the documented headers: signature over timestamp.body, Idempotency-Key, content type', async () => {
    const webhook = sink({ headers: { Authorization: 'Bearer abc' } });
    const events = orderEvents(3);
    const withMeta: SinkEvent = { ...(events[2] as SinkEvent), meta: { type: 'order.created' } };
    await webhook.write([events[0] as SinkEvent, events[1] as SinkEvent, withMeta], context());
    await webhook.close();
    assert.equal(receiver.requests.length, 1);
    const [request] = receiver.requests;
    assert.ok(request);
    assert.deepEqual(JSON.parse(request.body), {
      events: [
        { stream: 'events:orders', id: events[0]?.id, time: events[0]?.time, fields: events[0]?.fields },
        { stream: 'events:orders', id: events[1]?.id, time: events[1]?.time, fields: events[1]?.fields },
        { stream: 'events:orders', id: withMeta.id, time: withMeta.time, fields: withMeta.fields, meta: { type: 'order.created' } },
      ],
    });
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(request.headers.authorization, 'Bearer abc');
    assert.equal(request.headers['idempotency-key'], events.map((e) => e.id).join(','));
    assert.equal(request.signatureValid, true);
    const timestamp = request.headers['x-sluice-timestamp'] as string;
    assert.ok(Math.abs(Number(timestamp) - Date.now() / 1000) < 10);
    assert.equal(request.headers['x-sluice-signature'], signWebhook(SECRET, Number(timestamp), request.body));
    // The exported verifier accepts it, and refuses another secret, another body or an old timestamp.
    const signature = request.headers['x-sluice-signature'] as string;
    assert.equal(verifyWebhookSignature({ secret: SECRET, body: request.body, timestamp, signature }), true);
    assert.equal(verifyWebhookSignature({ secret: 'other', body: request.body, timestamp, signature }), false);
    assert.equal(verifyWebhookSignature({ secret: SECRET, body: request.body.replace('pending', 'paid'), timestamp, signature }), false);
    assert.equal(verifyWebhookSignature({ secret: SECRET, body: request.body, timestamp, signature, now: (Number(timestamp) + 301) * 1000 }), false);
    assert.equal(verifyWebhookSignature({ secret: SECRET, body: request.body, timestamp: String(Number(timestamp) + 1), signature }), false);
  });

  test('mode event: one request per event, its ID as Idempotency-Key; rotated secrets sign twice', async () => {
    const webhook = sink({ mode: 'event', secret: ['whsec_new', SECRET] });
    const events = orderEvents(3);
    await webhook.write(events, context());
    await webhook.close();
    assert.deepEqual(receiver.requests.map((r) => r.headers['idempotency-key']).sort(), events.map((e) => e.id).sort());
    for (const request of receiver.requests) {
      assert.equal((request.headers['x-sluice-signature'] as string).split(',').length, 2);
      assert.equal(request.signatureValid, true);
      const event = JSON.parse(request.body) as { id: string };
      assert.equal(event.id, request.headers['idempotency-key']);
      assert.equal(verifyWebhookSignature({ secret: 'whsec_new', body: request.body, timestamp: request.headers['x-sluice-timestamp'] as string, signature: request.headers['x-sluice-signature'] as string }), true);
    }
  });

  test('a large batch is split into requests of maxEventsPerRequest', async () => {
    const webhook = sink({ maxEventsPerRequest: 2 });
    const events = orderEvents(5);
    await webhook.write(events, context());
    await webhook.close();
    assert.deepEqual(receiver.requests.map((r) => r.events.length).sort(), [1, 2, 2]);
    assert.deepEqual(receiver.accepted.map((e) => e.id).sort(), events.map((e) => e.id).sort());
  });

  test('5xx answers are retried with backoff, each attempt signed anew, the same Idempotency-Key', async () => {
    const webhook = sink({ retries: 3 });
    receiver.failNext(2, 503);
    const events = orderEvents(2);
    await webhook.write(events, context());
    await webhook.close();
    assert.deepEqual(receiver.requests.map((r) => r.status), [503, 503, 200]);
    assert.deepEqual(receiver.requests.map((r) => r.headers['x-sluice-attempt']), ['1', '2', '3']);
    assert.ok(receiver.requests.every((r) => r.headers['idempotency-key'] === events.map((e) => e.id).join(',') && r.signatureValid));
    assert.deepEqual(receiver.accepted.map((e) => e.id), events.map((e) => e.id));
  });

  test('when retries run out the write fails retryably, after retries + 1 attempts', async () => {
    const webhook = sink({ retries: 2 });
    receiver.behaviour = { status: 500, body: 'database down' };
    await assert.rejects(webhook.write(orderEvents(1), context()), (error: unknown) => {
      assert.ok(error instanceof SinkUnavailableError, String(error));
      assert.match(error.message, /answered 500: database down/);
      return true;
    });
    assert.equal(receiver.requests.length, 3);
    await webhook.close();
  });

  test('a 4xx is refused at once, without retries', async () => {
    const webhook = sink({ retries: 3 });
    receiver.behaviour = { status: 400, body: 'missing field' };
    const events = orderEvents(2);
    await assert.rejects(webhook.write(events, context()), (error: unknown) => {
      assert.ok(error instanceof SinkRejectedError);
      assert.deepEqual(error.eventIds, events.map((e) => e.id));
      assert.match(error.message, /answered 400: missing field/);
      return true;
    });
    assert.equal(receiver.requests.length, 1);
    await webhook.close();
  });

  test('a 429 is retried', async () => {
    const webhook = sink({ retries: 1 });
    receiver.failNext(1, 429);
    await webhook.write(orderEvents(1), context());
    assert.deepEqual(receiver.requests.map((r) => r.status), [429, 200]);
    await webhook.close();
  });

  test('a receiver that hangs times out per request, is retried, then fails retryably', async () => {
    const webhook = sink({ timeout: '150ms', retries: 1 });
    receiver.behaviour = 'hang';
    const started = Date.now();
    await assert.rejects(webhook.write(orderEvents(1), context()), (error: unknown) => {
      assert.ok(error instanceof SinkUnavailableError);
      assert.match(error.message, /no answer within 150 ms/);
      return true;
    });
    const took = Date.now() - started;
    assert.equal(receiver.requests.length, 2);
    assert.ok(took >= 300 && took < 3000, `two attempts of 150 ms each took ${took} ms`);
    await webhook.close();
  });

  test('a refused connection is a network error: retried, then retryable', async () => {
    const port = await freePort();
    const webhook = new WebhookSink({ url: `http://127.0.0.1:${port}/x`, ...FAST_RETRIES });
    await assert.rejects(webhook.write(orderEvents(1), context()), (error: unknown) => {
      assert.ok(error instanceof SinkUnavailableError);
      assert.match(error.message, /ECONNREFUSED/);
      return true;
    });
    await webhook.close();
  });

  test('aborting the write stops a request in flight at once', async () => {
    const webhook = sink({ timeout: '30s' });
    receiver.behaviour = 'hang';
    const controller = new AbortController();
    const writing = webhook.write(orderEvents(1), { signal: controller.signal });
    await waitFor(() => receiver.requests.length === 1, { message: 'the request reached the receiver' });
    const started = Date.now();
    controller.abort(new Error('pipeline closing'));
    await assert.rejects(writing, (error: unknown) => error instanceof SinkUnavailableError && /aborted/.test(error.message));
    assert.ok(Date.now() - started < 1000);
    assert.equal(receiver.requests.length, 1, 'no retry after an abort');
    await webhook.close();
  });

  test('at most `concurrency` requests are in flight, across writes', async () => {
    const webhook = sink({ mode: 'event', concurrency: 2 });
    receiver.behaviour = 'hold';
    const events = orderEvents(6);
    const writes = [webhook.write(events.slice(0, 3), context()), webhook.write(events.slice(3), context())];
    for (let answered = 0; answered < 6; answered++) {
      const waiting = Math.min(2, 6 - answered);
      await waitFor(() => receiver.held === waiting, { message: () => `${waiting} requests held (now ${receiver.held})` });
      assert.ok(receiver.releaseOne());
    }
    await Promise.all(writes);
    assert.equal(receiver.maxInFlight, 2);
    assert.equal(receiver.accepted.length, 6);
    await webhook.close();
  });

  test('options are checked when the sink is built', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{}, /`url` to be a non-empty string/],
      [{ url: 'ftp://x' }, /`url` to be an http:\/\/ or https:\/\/ URL/],
      [{ url: 'http://x', mode: 'stream' }, /`mode` to be `batch` or `event`/],
      [{ url: 'http://x', concurrency: 0 }, /`concurrency` to be a whole number from 1/],
      [{ url: 'http://x', secret: '' }, /`secret` to be a non-empty string, or a list/],
      [{ url: 'http://x', headers: { 'Bad Header': 'x' } }, /`headers.Bad Header` to be a valid HTTP header name/],
      [{ url: 'http://x', timeout: '10 seconds' }, /`timeout` to be a duration/],
      [{ url: 'http://x', retires: 3 }, /`retires`.*did you mean `retries`/],
    ];
    for (const [options, message] of cases) {
      assert.throws(() => new WebhookSink(options as never), (error: unknown) => error instanceof Error && message.test(error.message), `${JSON.stringify(options)} → ${message}`);
    }
  });
});
