import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { NonRetryableError } from '../consumer/worker.js';
import type { Sink, SinkEvent } from '../sinks/sink.js';
import type { PipelineConfig, PipelineEvent } from './config.js';
import { definePipeline } from './define-pipeline.js';
import { EventFlow } from './event-flow.js';
import { SinkBatcher } from './sink-batcher.js';

/** A sink keeping what it stored; `hold()` makes its writes wait until released. */
class MemorySink implements Sink {
  readonly idempotent = true;
  readonly stored: SinkEvent[] = [];
  #held: Promise<void> | undefined;
  #release: (() => void) | undefined;
  constructor(readonly name: string) {}
  hold(): void {
    this.#held = new Promise((resolve) => (this.#release = resolve));
  }
  release(): void {
    this.#release?.();
  }
  async write(events: readonly SinkEvent[]): Promise<void> {
    if (this.#held) await this.#held;
    this.stored.push(...events.map((e) => structuredClone(e)));
  }
  async close(): Promise<void> {}
}

/** The pipeline's handler over memory sinks (batches of one, written at once). */
function flowOf(config: Omit<PipelineConfig, 'source'>): { flow: EventFlow; sinks: MemorySink[] } {
  const pipeline = definePipeline({ source: { type: 'stream', stream: 'events:orders' }, ...config } as PipelineConfig);
  const sinks = pipeline.plan.sinks.map((slot) => slot.target as MemorySink);
  const batchers = sinks.map((sink) => new SinkBatcher(sink, { size: 1, lingerMs: 0, logger: pino({ level: 'silent' }) }));
  const { plan } = pipeline;
  return { flow: new EventFlow({ steps: plan.processors, router: plan.router, fallback: plan.fallback, batchers }), sinks };
}

let ids = 0;
function order(fields: Record<string, string>): PipelineEvent {
  const n = ++ids;
  return { stream: 'events:orders', id: `${n}-0`, time: n, fields };
}

test('a filtered-out event is done synchronously (no promise): counted as processed and filtered', async () => {
  const db = new MemorySink('db');
  const { flow } = flowOf({ name: 'f', steps: [{ filter: 'status != "cancelled"' }], sinks: [db] });
  assert.equal(flow.handle(order({ status: 'cancelled' })), undefined);
  await flow.handle(order({ status: 'paid' }));
  assert.deepEqual(flow.counts, { processed: 2, filtered: 1 });
  assert.deepEqual(db.stored.map((e) => e.fields?.status), ['paid']);
});

test('map sets fields from the event as it entered the step, removes fields on null, keeps the others', async () => {
  const db = new MemorySink('db');
  const { flow } = flowOf({
    name: 'm',
    steps: [{ map: { amount_cents: 'string(int(double(amount) * 100.0))', status: 'amount', amount: 'status', note: 'null', big: 'double(amount) > 50.0' } }],
    sinks: [db],
  });
  await flow.handle(order({ order_id: '7', amount: '99.99', status: 'paid', note: 'x' }));
  assert.deepEqual(db.stored[0]?.fields, { order_id: '7', amount: 'paid', status: '99.99', amount_cents: '9999', big: 'true' });
});

test('a map expression that fails on an event throws NonRetryableError naming the key, the expression and the reason', () => {
  const { flow } = flowOf({ name: 'm', steps: [{ map: { cents: 'string(int(double(amount) * 100.0))' } }], sinks: [new MemorySink('db')] });
  assert.throws(
    () => flow.handle(order({ amount: 'n/a' })),
    (error: unknown) => error instanceof NonRetryableError && /steps\[0\]\.map\.cents `string\(int\(double\(amount\) \* 100\.0\)\)` failed: .*double/.test(error.message),
  );
  assert.throws(() => flow.handle(order({})), (error: unknown) => error instanceof NonRetryableError && /Unknown variable: amount/.test(error.message));
});

test('a filter that gives no boolean fails the event', () => {
  const { flow } = flowOf({ name: 'f', steps: [{ filter: 'status' }], sinks: [new MemorySink('db')] });
  assert.throws(() => flow.handle(order({ status: 'paid' })), (error: unknown) => error instanceof NonRetryableError && /gave `paid`, expected true or false/.test(error.message));
});

test('route: the first matching case takes the event; then default; without one, the pipeline sinks; with neither, it is dropped', async () => {
  const big = new MemorySink('big');
  const paid = new MemorySink('paid');
  const rest = new MemorySink('rest');
  const fallback = new MemorySink('fallback');
  const routed = flowOf({
    name: 'r',
    steps: [{ route: [{ when: 'double(amount) >= 100.0', to: [big] }, { when: 'status == "paid"', to: paid }, { default: [rest] }] }],
    sinks: [fallback],
  }).flow;
  await routed.handle(order({ amount: '150.00', status: 'paid' }));
  await routed.handle(order({ amount: '10.00', status: 'paid' }));
  await routed.handle(order({ amount: '10.00', status: 'pending' }));
  assert.deepEqual([big, paid, rest, fallback].map((s) => s.stored.length), [1, 1, 1, 0]);

  const toFallback = flowOf({ name: 'r2', steps: [{ route: [{ when: 'status == "paid"', to: [paid] }] }], sinks: [fallback] }).flow;
  await toFallback.handle(order({ status: 'pending' }));
  assert.equal(fallback.stored.length, 1);

  const nowhere = flowOf({ name: 'r3', steps: [{ route: [{ when: 'status == "paid"', to: [paid] }] }] }).flow;
  assert.equal(nowhere.handle(order({ status: 'pending' })), undefined);
  assert.deepEqual(nowhere.counts, { processed: 1, filtered: 1 });
});

test('an event routed to several sinks is done only once every one of them stored it', async () => {
  const db = new MemorySink('db');
  const hook = new MemorySink('hook');
  const { flow } = flowOf({ name: 'fan', steps: [{ route: [{ when: 'true', to: [db, hook] }] }] });
  hook.hold();
  let done = false;
  const handled = (flow.handle(order({ status: 'paid' })) as Promise<void>).then(() => (done = true));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(db.stored.length, 1);
  assert.equal(done, false, 'not done while one sink has not stored it');
  hook.release();
  await handled;
  assert.equal(hook.stored.length, 1);
  assert.equal(flow.counts.processed, 1);
});

test('function steps: async filters and maps, null drops, undefined keeps the changed event, the envelope is kept', async () => {
  const db = new MemorySink('db');
  const { flow } = flowOf({
    name: 'fn',
    steps: [
      { filter: async (event) => event.fields?.status !== 'cancelled' },
      { map: (event) => (event.fields?.skip === 'yes' ? null : { fields: { ...event.fields, region: 'eu' } }) },
      {
        map: (event) => {
          (event.fields as Record<string, string>).checked = 'true';
        },
      },
    ],
    sinks: [db],
  });
  const kept = order({ status: 'paid' });
  await flow.handle(kept);
  await flow.handle(order({ status: 'cancelled' }));
  await flow.handle(order({ status: 'paid', skip: 'yes' }));
  assert.deepEqual(db.stored.map((e) => [e.id, e.stream, e.fields]), [[kept.id, 'events:orders', { status: 'paid', region: 'eu', checked: 'true' }]]);
  assert.deepEqual(flow.counts, { processed: 3, filtered: 2 });
});

test('a function step that throws dead-letters the event, unless its error says retryable', async () => {
  const transient = Object.assign(new Error('lookup timed out'), { retryable: true });
  const { flow } = flowOf({
    name: 'fn',
    steps: [
      {
        map: (event) => {
          if (event.fields?.kind === 'transient') throw transient;
          throw new Error('no region for this customer');
        },
      },
    ],
    sinks: [new MemorySink('db')],
  });
  assert.throws(() => flow.handle(order({})), (error: unknown) => error instanceof NonRetryableError && /steps\[0\]\.map function map failed: no region/.test(error.message));
  assert.throws(() => flow.handle(order({ kind: 'transient' })), (error: unknown) => error === transient);
});
