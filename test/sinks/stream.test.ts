import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { connect, StreamSink, type SinkEvent } from '../../src/index.js';
import { clientList } from '../helpers/streams.js';
import { startRedisServer, uniquePrefix } from '../helpers/redis-server.js';
import { useSluice } from '../helpers/sluice-fixture.js';
import { waitFor } from '../helpers/wait.js';
import { context, orderEvents, sinkConformance, type StoredEvent } from './conformance.js';

const redis = useSluice();

/** The source event ID of a republished event: the end of its idempotency key `<stream>:<id>`. */
function sourceId(idempotencyKey: string | undefined): string {
  return (idempotencyKey ?? '').slice((idempotencyKey ?? '').lastIndexOf(':') + 1);
}

sinkConformance(
  'stream',
  { idempotent: true, ordered: true, storesFields: true, transientFailure: true, rejectsWrites: false, poisonEvent: 'event' },
  async () => {
    const target = `${uniquePrefix('sink')}copy`;
    const sink = new StreamSink({ connection: redis.sluice, stream: target });
    return {
      sink,
      read: async (): Promise<StoredEvent[]> => (await redis.sluice.stream(target).range()).map((e) => ({ id: sourceId(e.meta?.idempotencyKey), fields: e.fields })),
      // Redis at maxmemory under noeviction refuses writes (OOM) until memory is raised again.
      fail: async () => {
        await redis.server.cli('CONFIG', 'SET', 'maxmemory', '1');
        return async () => {
          await redis.server.cli('CONFIG', 'SET', 'maxmemory', '0');
        };
      },
      // Nested data cannot be stored by the target's fields codec.
      poison: (event: SinkEvent) => ({ stream: event.stream, id: event.id, time: event.time, data: { order: { nested: true } } }),
    };
  },
);

describe('stream sink', () => {
  test('republishes fields and metadata, with the idempotency key <source stream>:<event ID>', async () => {
    const target = `${uniquePrefix('sink')}copy`;
    const sink = new StreamSink({ connection: redis.sluice, stream: target });
    const [event] = orderEvents(1) as [SinkEvent];
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const withMeta: SinkEvent = { ...event, meta: { key: 'customer-600', type: 'order.created', traceparent, tracestate: 'congo=t61rcWkgMzE' } };
    // The same ID read from another partition is another event; its `$ts` (written by another
    // client) is not a tracestate, so it stays behind rather than failing the copy.
    const twin: SinkEvent = { ...event, stream: 'events:orders:1', meta: { traceparent, tracestate: 'bad\u0001state' } };
    await sink.write([withMeta, twin], context());
    await sink.write([withMeta, twin], context());
    await sink.close();
    const copies = await redis.sluice.stream(target).range();
    assert.equal(copies.length, 2);
    assert.deepEqual(copies[0]?.fields, event.fields);
    assert.deepEqual(copies[0]?.meta, { ...withMeta.meta, idempotencyKey: `events:orders:${event.id}` });
    assert.deepEqual(copies[1]?.meta, { traceparent, idempotencyKey: `events:orders:1:${event.id}` });
    assert.notEqual(copies[0]?.id, event.id, 'the target gives its own IDs');
  });

  test('a json target takes fields events as data; a json event goes to a fields target when flat', async () => {
    const jsonTarget = `${uniquePrefix('sink')}json`;
    const toJson = new StreamSink({ connection: redis.sluice, stream: jsonTarget, codec: 'json' });
    const [event] = orderEvents(1) as [SinkEvent];
    await toJson.write([event, { stream: 's', id: '1-1', time: 1, data: { nested: { ok: true } } }], context());
    await toJson.close();
    assert.deepEqual((await redis.sluice.stream(jsonTarget, { codec: 'json' }).range()).map((e) => e.data), [event.fields, { nested: { ok: true } }]);

    const fieldsTarget = `${uniquePrefix('sink')}fields`;
    const toFields = new StreamSink({ connection: redis.sluice, stream: fieldsTarget });
    await toFields.write([{ stream: 's', id: '1-2', time: 1, data: { amount: 12.5, paid: true } }], context());
    await toFields.close();
    assert.deepEqual((await redis.sluice.stream(fieldsTarget).range()).map((e) => e.fields), [{ amount: '12.5', paid: 'true' }]);
  });

  test('with a url, the sink opens its own connection on first write and closes it', async () => {
    const target = `${uniquePrefix('sink')}own`;
    const before = (await clientList(redis.server)).length;
    const sink = new StreamSink({ url: redis.server.url, stream: target, retention: { maxLen: 100 } });
    assert.equal((await clientList(redis.server)).length, before, 'nothing connects before the first write');
    await sink.write(orderEvents(3), context());
    assert.equal((await redis.sluice.stream(target).range()).length, 3);
    await sink.close();
    await waitFor(async () => (await clientList(redis.server)).length === before, { message: "the sink's own connections are closed" });
  });

  test('keeps the order of a batch, also on a server that has not loaded the idempotent-publish script yet (NOSCRIPT)', async () => {
    const fresh = await startRedisServer();
    const own = await connect({ url: fresh.url });
    try {
      const target = `${uniquePrefix('sink')}order`;
      const sink = new StreamSink({ connection: own, stream: target });
      const events = orderEvents(5);
      await sink.write(events, context());
      assert.deepEqual((await own.stream(target).range()).map((e) => sourceId(e.meta?.idempotencyKey)), events.map((e) => e.id));
    } finally {
      await own.close();
      await fresh.close();
    }
  });

  test('options are checked when the sink is built', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{}, /`stream` to be a non-empty string/],
      [{ stream: 'x', codec: 'avro' }, /`codec` to be `fields` or `json`/],
      [{ stream: 'x', url: 'http://localhost' }, /`url` to be a Redis URL/],
      [{ stream: 'x', retention: { maxLen: -1 } }, /`retention.maxLen` to be a whole number/],
      [{ stream: 'x', idempotency: { window: 'forever' } }, /`idempotency.window` to be a duration/],
      [{ stream: 'x', connection: {} }, /`connection` to be a Sluice connection/],
    ];
    for (const [options, message] of cases) {
      assert.throws(() => new StreamSink(options as never), (error: unknown) => error instanceof Error && message.test(error.message), `${JSON.stringify(options)} → ${message}`);
    }
  });
});
