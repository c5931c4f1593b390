// The one suite every sink passes (delivery, batching, idempotency, retry, rejection, abort, close).
// A sink's test file calls `sinkConformance(name, features, factory)`; the factory builds a fresh
// sink on a fresh target (table, file, receiver) for each test, with hooks to read the target
// back and to make it fail. What a sink cannot do is declared in `features`, and those tests are
// reported as skipped with the reason, never passed silently.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClosedError, isRetryableSinkError, SinkRejectedError, type Sink, type SinkContext, type SinkEvent } from '../../src/index.js';

export interface SinkFeatures {
  /** Writing an event again never stores it twice. */
  idempotent: boolean;
  /** `read()` returns the events of one write in the order they were written. */
  ordered: boolean;
  /** `read()` gives back each event's fields, not only its ID. */
  storesFields: boolean;
  /** The factory's `fail()` makes the target fail for a while (down, locked, answering 500). */
  transientFailure: boolean;
  /** The factory's `reject()` makes the target refuse every write (answering 400). */
  rejectsWrites: boolean;
  /**
   * The factory's `poison()` makes an event the sink can never store. `event`: it alone is
   * refused (named in `eventIds`) and the rest of its batch is stored; `batch`: its whole batch
   * is refused.
   */
  poisonEvent: false | 'event' | 'batch';
}

/** An event as the target holds it. */
export interface StoredEvent {
  id: string;
  fields?: Record<string, string>;
}

/** A sink on a fresh target, and the hooks the suite uses on that target. */
export interface SinkUnderTest {
  sink: Sink;
  /** Everything the target holds, in the order it was stored. */
  read(): Promise<StoredEvent[]>;
  /** Makes the target fail (retryably) until the returned function is called. */
  fail?(): Promise<() => Promise<void>>;
  /** Makes the target refuse every write until the returned function is called. */
  reject?(): Promise<() => Promise<void>>;
  /** `event`, changed so that the sink can never store it. */
  poison?(event: SinkEvent): SinkEvent;
  /** Releases the target (the suite closes the sink first). */
  dispose?(): Promise<void>;
}

export type SinkFactory = () => Promise<SinkUnderTest>;

let sequence = 0;

/** `count` order events with IDs no other call has made, one millisecond apart. */
export function orderEvents(count: number, stream = 'events:orders'): SinkEvent[] {
  const base = 1_700_000_000_000 + ++sequence * 100_000;
  const statuses = ['pending', 'paid', 'shipped'];
  return Array.from({ length: count }, (_, i) => ({
    stream,
    id: `${base + i}-0`,
    time: base + i,
    fields: { order_id: String(10_000 + i), customer_id: String(600 + (i % 7)), amount: `${i}.5`, status: statuses[i % 3] as string },
  }));
}

/** A context whose signal never aborts. */
export function context(): SinkContext {
  return { signal: new AbortController().signal };
}

function isRetryable(error: unknown): boolean {
  return !(error instanceof SinkRejectedError) && isRetryableSinkError(error);
}

async function withSink(factory: SinkFactory, body: (sut: SinkUnderTest) => Promise<void>): Promise<void> {
  const sut = await factory();
  try {
    await body(sut);
  } finally {
    await sut.sink.close().catch(() => undefined);
    await sut.dispose?.();
  }
}

function assertStored(features: SinkFeatures, stored: readonly StoredEvent[], events: readonly SinkEvent[], message?: string): void {
  const ids = stored.map((s) => s.id);
  const expected = events.map((e) => e.id);
  if (features.ordered) assert.deepEqual(ids, expected, message);
  else assert.deepEqual([...ids].sort(), [...expected].sort(), message);
  if (features.storesFields) {
    const byId = new Map(stored.map((s) => [s.id, s.fields]));
    for (const event of events) assert.deepEqual(byId.get(event.id), event.fields, `the fields of ${event.id}`);
  }
}

/**
 * Registers the shared sink tests for one sink. `factory` is called once per test.
 *
 * @example
 * sinkConformance('sqlite', { idempotent: true, ordered: true, … }, async () => ({ sink, read }))
 */
export function sinkConformance(name: string, features: SinkFeatures, factory: SinkFactory): void {
  const unsupported = (supported: boolean, what: string) => (supported ? false : `${name} declares no ${what}`);

  describe(`${name} sink: conformance`, () => {
    test('declares whether it is idempotent, and has a name', () =>
      withSink(factory, async ({ sink }) => {
        assert.equal(sink.idempotent, features.idempotent);
        assert.equal(typeof sink.name, 'string');
        assert.ok(sink.name.length > 0);
      }));

    test('delivery: a written batch is in the target, fields intact, once write resolves', () =>
      withSink(factory, async ({ sink, read }) => {
        const events = orderEvents(3);
        await sink.write(events, context());
        assertStored(features, await read(), events);
      }));

    test('an empty batch resolves and stores nothing', () =>
      withSink(factory, async ({ sink, read }) => {
        await sink.write([], context());
        assert.deepEqual(await read(), []);
      }));

    test('batching: 600 events in one write are all stored', () =>
      withSink(factory, async ({ sink, read }) => {
        const events = orderEvents(600);
        await sink.write(events, context());
        assertStored(features, await read(), events);
      }));

    test('concurrent writes are all stored', () =>
      withSink(factory, async ({ sink, read }) => {
        const batches = Array.from({ length: 8 }, () => orderEvents(25));
        await Promise.all(batches.map((batch) => sink.write(batch, context())));
        const stored = await read();
        assert.deepEqual(stored.map((s) => s.id).sort(), batches.flat().map((e) => e.id).sort());
      }));

    if (features.idempotent) {
      test('idempotency: events written again (a redelivery, an overlapping batch) are stored once', () =>
        withSink(factory, async ({ sink, read }) => {
          const events = orderEvents(8);
          await sink.write(events.slice(0, 5), context());
          await sink.write(events.slice(0, 5), context());
          await sink.write(events.slice(3), context());
          await sink.write([events[7] as SinkEvent, events[7] as SinkEvent], context());
          assertStored({ ...features, ordered: false }, await read(), events);
        }));
    } else {
      test('not idempotent: declared so, and a redelivered event is stored again (at least once)', () =>
        withSink(factory, async ({ sink, read }) => {
          assert.equal(sink.idempotent, false);
          const events = orderEvents(4);
          await sink.write(events, context());
          await sink.write(events, context());
          const counts = new Map<string, number>();
          for (const stored of await read()) counts.set(stored.id, (counts.get(stored.id) ?? 0) + 1);
          for (const event of events) assert.equal(counts.get(event.id), 2, `${event.id} stored on each delivery`);
        }));
    }

    test('retry: a failing target makes write throw a retryable error; the same batch is stored once it recovers', { skip: unsupported(features.transientFailure, 'way to make its target fail') }, () =>
      withSink(factory, async (sut) => {
        const events = orderEvents(5);
        const restore = await (sut.fail as NonNullable<SinkUnderTest['fail']>)();
        let restored = false;
        try {
          await assert.rejects(sut.sink.write(events, context()), (error: unknown) => {
            assert.ok(isRetryable(error), `expected a retryable error, got ${String(error)}`);
            return true;
          });
        } finally {
          await restore();
          restored = true;
        }
        assert.ok(restored);
        await sut.sink.write(events, context());
        const stored = await sut.read();
        if (features.idempotent) assertStored({ ...features, ordered: false }, stored, events);
        else for (const event of events) assert.ok(stored.some((s) => s.id === event.id), `${event.id} stored after the retry`);
      }));

    test('rejection: a target that refuses the events makes write throw SinkRejectedError (not retryable)', { skip: unsupported(features.rejectsWrites, 'way to make its target refuse writes') }, () =>
      withSink(factory, async (sut) => {
        const events = orderEvents(3);
        const restore = await (sut.reject as NonNullable<SinkUnderTest['reject']>)();
        try {
          await assert.rejects(sut.sink.write(events, context()), (error: unknown) => {
            assert.ok(error instanceof SinkRejectedError, `expected SinkRejectedError, got ${String(error)}`);
            assert.equal(error.retryable, false);
            assert.equal(error.code, 'ERR_SINK_REJECTED');
            assert.equal(isRetryableSinkError(error), false);
            if (error.eventIds) assert.deepEqual([...error.eventIds].sort(), events.map((e) => e.id).sort());
            return true;
          });
        } finally {
          await restore();
        }
        assert.deepEqual(await sut.read(), []);
      }));

    test(
      `poison event: refused with SinkRejectedError${features.poisonEvent === 'event' ? ' naming it alone; the rest of the batch is stored' : ''}`,
      { skip: unsupported(features.poisonEvent !== false, 'event it can never store') },
      () =>
        withSink(factory, async (sut) => {
          const [first, middle, last] = orderEvents(3) as [SinkEvent, SinkEvent, SinkEvent];
          const poison = (sut.poison as NonNullable<SinkUnderTest['poison']>)(middle);
          await assert.rejects(sut.sink.write([first, poison, last], context()), (error: unknown) => {
            assert.ok(error instanceof SinkRejectedError, `expected SinkRejectedError, got ${String(error)}`);
            if (features.poisonEvent === 'event') assert.deepEqual(error.eventIds, [poison.id]);
            else if (error.eventIds) assert.deepEqual([...error.eventIds].sort(), [first.id, poison.id, last.id].sort());
            return true;
          });
          if (features.poisonEvent === 'event') assertStored(features, await sut.read(), [first, last]);
          // The good events, written again without the poison, are stored.
          await sut.sink.write([first, last], context());
          const ids = (await sut.read()).map((s) => s.id);
          assert.ok(ids.includes(first.id) && ids.includes(last.id));
          assert.ok(!ids.includes(poison.id));
        }),
    );

    test('abort: a write whose signal is already aborted rejects, retryably, and stores nothing', () =>
      withSink(factory, async ({ sink, read }) => {
        const controller = new AbortController();
        controller.abort(new Error('closing'));
        await assert.rejects(sink.write(orderEvents(2), { signal: controller.signal }), (error: unknown) => isRetryable(error));
        assert.deepEqual(await read(), []);
      }));

    test('close: waits for writes in flight, then refuses writes with ClosedError; closing twice is fine', () =>
      withSink(factory, async ({ sink, read }) => {
        const events = orderEvents(50);
        const writing = sink.write(events, context());
        await sink.close();
        await writing; // it was in flight when close() was called: close waited for it
        assertStored(features, await read(), events);
        await assert.rejects(sink.write(orderEvents(1), context()), (error: unknown) => error instanceof ClosedError);
        await sink.close();
      }));
  });
}
