import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { context, createTraceState, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { InvalidOptionError, type FieldsEvent } from '../../src/index.js';
import { activeTraceparent, activeTracer } from '../../src/observe/trace-context.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useSluice } from '../helpers/sluice-fixture.js';
import { cliRange, commandCalls } from '../helpers/streams.js';
import { waitFor } from '../helpers/wait.js';
import { registerRecordingTracer, type RecordedSpan, type RecordingTracer } from './recording-tracer.js';

const ORDER = { order_id: '12345', customer_id: '67890', amount: '99.99', status: 'pending' };
const ORDER_FIELDS = ['order_id', '12345', 'customer_id', '67890', 'amount', '99.99', 'status', 'pending'];

const redis = useSluice();

interface Seen {
  event: FieldsEvent;
  deliveryCount: number;
  span: Span | undefined;
}

/** Consumes `name` from the start until `count` handler runs were seen; `fail` makes a run throw. */
async function consumeRuns(name: string, count: number, fail: (seen: Seen) => boolean = () => false): Promise<Seen[]> {
  const seen: Seen[] = [];
  const worker = redis.sluice.stream(name).consume({ group: 'billing', startFrom: '0', backoff: 5 }, (event, ctx) => {
    const run = { event, deliveryCount: ctx.deliveryCount, span: trace.getActiveSpan() };
    seen.push(run);
    if (fail(run)) throw new Error(`run ${ctx.deliveryCount} fails`);
  });
  try {
    await waitFor(() => seen.length >= count, { message: () => `${seen.length} of ${count} handler runs` });
  } finally {
    await worker.close();
  }
  return seen;
}

function publishIn(span: Span, publish: () => Promise<string>): Promise<string> {
  return context.with(trace.setSpan(context.active(), span), publish);
}

function traceparentOf(span: Span): string {
  const { traceId, spanId } = span.spanContext();
  return `00-${traceId}-${spanId}-01`;
}

describe('without an OpenTelemetry SDK', () => {
  test('nothing is traced: the guide\'s event stays its 4 fields, and the handler runs without a span', async () => {
    assert.equal(activeTracer(), undefined);
    // A span "activated" without a context manager is not active: the API's no-op path.
    const orphan = trace.wrapSpanContext({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 });
    const name = `${uniquePrefix('trace')}events:orders`;
    const id = await publishIn(orphan, () => redis.sluice.stream(name).publish(ORDER));
    assert.equal(activeTraceparent(), undefined);
    assert.deepEqual(await cliRange(redis.server, name), [[id, ORDER_FIELDS]]);

    const [run, ...more] = await consumeRuns(name, 1);
    assert.deepEqual(more, []);
    assert.equal(run?.event.id, id);
    assert.equal(run?.event.meta, undefined);
    assert.equal(run?.span, undefined);
  });

  test('an explicit traceparent is stored as `$tp` as given; a malformed one is refused before anything is sent', async () => {
    const name = `${uniquePrefix('trace')}events:orders`;
    const stream = redis.sluice.stream(name);
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const id = await stream.publish(ORDER, { traceparent });
    assert.deepEqual(await cliRange(redis.server, name), [[id, [...ORDER_FIELDS, '$tp', traceparent]]]);
    const [event] = await stream.range();
    assert.deepEqual(event?.meta, { traceparent });

    const xadds = await commandCalls(redis.server, 'xadd');
    for (const bad of ['', 'trace-me', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01']) {
      await assert.rejects(stream.publish(ORDER, { traceparent: bad }), (error: unknown) => {
        assert.ok(error instanceof InvalidOptionError, String(error));
        assert.equal(error.option, 'traceparent');
        assert.match(error.message, /a W3C traceparent like 00-/);
        return true;
      });
    }
    await assert.rejects(stream.publishMany([ORDER, ORDER], { traceparent: 'nope' }), InvalidOptionError);
    assert.equal(await commandCalls(redis.server, 'xadd'), xadds, 'no XADD was sent');
  });
});

describe('with a tracer registered', () => {
  let tracer: RecordingTracer;
  let unregister: () => void;

  before(() => {
    ({ tracer, unregister } = registerRecordingTracer());
  });

  after(() => unregister?.());

  function consumerSpans(): RecordedSpan[] {
    return tracer.spans.filter((s) => s.kind === SpanKind.CONSUMER);
  }

  test("the handler's span is a child of the span that published the event, through `$tp`", async () => {
    const name = `${uniquePrefix('trace')}events:orders`;
    const next = `${uniquePrefix('trace')}events:invoices`;
    const publisher = tracer.startSpan('checkout');
    const id = await publishIn(publisher, () => redis.sluice.stream(name).publish(ORDER));
    publisher.end();
    assert.deepEqual(await cliRange(redis.server, name), [[id, [...ORDER_FIELDS, '$tp', traceparentOf(publisher)]]]);

    // The handler publishes in turn: the next event carries the handler's span.
    const seen: Array<{ event: FieldsEvent; span: Span | undefined }> = [];
    const worker = redis.sluice.stream(name).consume({ group: 'billing', consumer: 'worker-1', startFrom: '0' }, async (event) => {
      seen.push({ event, span: trace.getActiveSpan() });
      await redis.sluice.stream(next).publish({ invoice_for: event.id });
    });
    try {
      await waitFor(async () => (await cliRange(redis.server, next)).length === 1, { message: 'the handler published its event' });
    } finally {
      await worker.close();
    }

    const spans = consumerSpans().filter((s) => s.attributes['messaging.message.id'] === id);
    assert.equal(spans.length, 1);
    const span = spans[0] as RecordedSpan;
    assert.equal(seen[0]?.span, span, 'the span is active while the handler runs');
    assert.equal(span.name, `${name} process`);
    assert.equal(span.context.traceId, publisher.context.traceId);
    assert.equal(span.parent?.spanId, publisher.context.spanId);
    assert.equal(span.parent?.isRemote, true);
    assert.deepEqual(span.attributes, {
      'messaging.system': 'redis_streams',
      'messaging.operation.type': 'process',
      'messaging.destination.name': name,
      'messaging.consumer.group.name': 'billing',
      'messaging.message.id': id,
    });
    assert.equal(span.ended, true);
    assert.equal(span.status.code, SpanStatusCode.UNSET);
    assert.deepEqual(seen[0]?.event.meta, { traceparent: traceparentOf(publisher) });

    const [invoice] = await cliRange(redis.server, next);
    assert.deepEqual(invoice?.[1], ['invoice_for', id, '$tp', traceparentOf(span)]);
  });

  test('a trace state travels with the traceparent as `$ts`, and comes back on the handler span', async () => {
    const name = `${uniquePrefix('trace')}events:orders`;
    const stream = redis.sluice.stream(name);
    // A span whose context carries vendor trace state (as an SDK's does after a propagator read it).
    const base = tracer.startSpan('checkout');
    const withState = trace.wrapSpanContext({ ...base.spanContext(), traceState: createTraceState('congo=t61rcWkgMzE,rojo=00f067aa0ba902b7') });
    const inSpan = await publishIn(withState, () => stream.publish(ORDER));
    base.end();
    // Given explicitly, as the HTTP ingest does from the request's headers.
    const given = await stream.publish(ORDER, { traceparent: traceparentOf(base), tracestate: 'vendor=abc' });
    assert.deepEqual(await cliRange(redis.server, name), [
      [inSpan, [...ORDER_FIELDS, '$tp', traceparentOf(base), '$ts', 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7']],
      [given, [...ORDER_FIELDS, '$tp', traceparentOf(base), '$ts', 'vendor=abc']],
    ]);

    const runs = await consumeRuns(name, 2);
    assert.deepEqual(runs[0]?.event.meta, { traceparent: traceparentOf(base), tracestate: 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7' });
    const spans = consumerSpans().filter((s) => s.attributes['messaging.destination.name'] === name);
    assert.deepEqual(
      spans.map((s) => [s.parent?.spanId, s.parent?.traceState?.serialize()]),
      [
        [base.context.spanId, 'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7'],
        [base.context.spanId, 'vendor=abc'],
      ],
    );

    // Refused before anything is sent: a state without its parent, or one that is not a tracestate.
    await assert.rejects(stream.publish(ORDER, { tracestate: 'vendor=abc' }), (error: unknown) => error instanceof InvalidOptionError && /tracestate/.test(error.message));
    await assert.rejects(
      stream.publish(ORDER, { traceparent: traceparentOf(base), tracestate: 'x'.repeat(513) }),
      (error: unknown) => error instanceof InvalidOptionError && /512/.test(error.message),
    );
    assert.equal((await cliRange(redis.server, name)).length, 2);
  });

  test('published outside any span: still exactly 4 fields, and the handler span starts a new trace', async () => {
    const name = `${uniquePrefix('trace')}events:orders`;
    const id = await redis.sluice.stream(name).publish(ORDER);
    assert.deepEqual(await cliRange(redis.server, name), [[id, ORDER_FIELDS]]);
    const [run] = await consumeRuns(name, 1);
    const span = run?.span as RecordedSpan;
    assert.ok(span, 'the handler ran in a span');
    assert.equal(span.kind, SpanKind.CONSUMER);
    assert.equal(span.parent, undefined);
    assert.equal(span.attributes['messaging.message.id'], id);
    assert.equal(span.ended, true);
  });

  test('a failed run ends its span with ERROR; the retry is a new span under the same parent', async () => {
    const name = `${uniquePrefix('trace')}events:orders`;
    const publisher = tracer.startSpan('checkout');
    const id = await publishIn(publisher, () => redis.sluice.stream(name).publish(ORDER));
    publisher.end();
    const runs = await consumeRuns(name, 2, (run) => run.deliveryCount === 1);
    assert.deepEqual(runs.map((r) => r.deliveryCount), [1, 2]);
    const [first, second] = runs.map((r) => r.span as RecordedSpan);
    assert.ok(first && second && first !== second, 'one span per run');
    for (const span of [first, second]) {
      assert.equal(span.attributes['messaging.message.id'], id);
      assert.equal(span.parent?.spanId, publisher.context.spanId);
      assert.equal(span.context.traceId, publisher.context.traceId);
      assert.equal(span.ended, true);
    }
    assert.deepEqual(first.status, { code: SpanStatusCode.ERROR, message: 'run 1 fails' });
    assert.equal((first.exceptions[0] as Error).message, 'run 1 fails');
    assert.equal(second.status.code, SpanStatusCode.UNSET);
  });

  test("an event whose `$tp` is not a traceparent (written by another client) gets a span of its own trace", async () => {
    const name = `${uniquePrefix('trace')}events:orders`;
    const id = await redis.server.cli('XADD', name, '*', 'order_id', '1', '$tp', 'not-a-traceparent');
    const [run] = await consumeRuns(name, 1);
    const span = run?.span as RecordedSpan;
    assert.equal(span.attributes['messaging.message.id'], id);
    assert.equal(span.parent, undefined);
    assert.deepEqual(run?.event.meta, { traceparent: 'not-a-traceparent' });
  });
});
