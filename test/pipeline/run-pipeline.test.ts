import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import {
  definePipeline,
  orderEvent,
  runPipeline,
  SinkRejectedError,
  SinkUnavailableError,
  type PipelineConfig,
  type RunningPipeline,
} from '../../src/index.js';
import { pendingCount } from '../helpers/pending.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useTempDir } from '../helpers/fixtures.js';
import { useSluice } from '../helpers/sluice-fixture.js';
import { waitFor } from '../helpers/wait.js';
import { closePipelinesAfterEach, MemorySink, recordingLogger } from './helpers.js';

const redis = useSluice();
const dir = useTempDir('sluice-test-pipeline-');
const track = closePipelinesAfterEach();

/** Runs a pipeline closed after the test, on a stream of the test's own; quick to notice idleness. */
async function run(config: Omit<PipelineConfig, 'source'> & { source?: PipelineConfig['source'] }, stream: string): Promise<RunningPipeline> {
  const { logger } = recordingLogger();
  const pipeline = definePipeline({
    source: { type: 'stream', stream },
    ...config,
    consumer: { block: 100, backoff: { initial: 20, max: 200 }, ...config.consumer },
  } as PipelineConfig);
  const started = await runPipeline(pipeline, { sluice: redis.sluice, logger });
  return track(started);
}

const orders = (count: number, from = 1) => Array.from({ length: count }, (_, i) => orderEvent(from + i));

describe('runPipeline', () => {
  test('filters, maps and writes every event once, acknowledging it only after the write', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('pipe')}orders`);
    const events = orders(60);
    const ids = await stream.publishMany(events);
    const sink = new MemorySink('db');
    const pipeline = await run(
      { name: 'orders-db', steps: [{ filter: 'status != "cancelled"' }, { map: { amount_cents: 'string(int(round(double(amount) * 100.0)))' } }], sinks: [sink] },
      stream.name,
    );
    await pipeline.idle();
    const kept = ids.filter((_, i) => events[i]?.status !== 'cancelled');
    assert.deepEqual([...sink.stored.keys()].sort(), [...kept].sort());
    for (const [i, id] of ids.entries()) {
      const stored = sink.stored.get(id);
      if (stored === undefined) continue;
      const order = events[i] as ReturnType<typeof orderEvent>;
      assert.deepEqual(stored.fields, { ...order, amount_cents: String(Math.round(Number(order.amount) * 100)) });
    }
    assert.deepEqual(pipeline.stats(), { processed: 60, filtered: 60 - kept.length, deadLettered: 0, written: { db: kept.length }, published: 0 });
    assert.equal(await pendingCount(redis.sluice, stream.name, 'orders-db'), 0);
    assert.equal(pipeline.group, 'orders-db');
  });

  test('routes by content to different sinks and to another stream; unmatched events go to the default', async () => {
    const prefix = uniquePrefix('route');
    const stream = redis.sluice.stream(`${prefix}orders`);
    const events = orders(40);
    const ids = await stream.publishMany(events);
    const big = new MemorySink('big');
    const rest = new MemorySink('rest');
    const pipeline = await run(
      {
        name: 'router',
        steps: [
          { route: [{ when: 'double(amount) >= 250.0', to: [big, { type: 'stream', stream: `${prefix}big` }] }] },
        ],
        sinks: [rest],
      },
      stream.name,
    );
    await pipeline.idle();
    const isBig = (i: number) => Number(events[i]?.amount) >= 250;
    assert.deepEqual([...big.stored.keys()].sort(), ids.filter((_, i) => isBig(i)).sort());
    assert.deepEqual([...rest.stored.keys()].sort(), ids.filter((_, i) => !isBig(i)).sort());
    const republished = await redis.sluice.stream(`${prefix}big`).range();
    assert.deepEqual(republished.map((e) => e.fields.order_id).sort(), events.filter((_, i) => isBig(i)).map((e) => e.order_id).sort());
    assert.equal(pipeline.stats().written[`stream:${prefix}big`], big.stored.size);
  });

  test('a full batch is one write; the rest is written after the linger', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('batch')}orders`);
    await stream.publishMany(orders(25));
    const sink = new MemorySink();
    const pipeline = await run({ name: 'batcher', sinks: [sink], batch: { size: 10, linger: '150ms' } }, stream.name);
    await pipeline.idle();
    assert.equal(sink.stored.size, 25);
    assert.ok(sink.batches.every((batch) => batch.length <= 10), `batches of ${sink.batches.map((b) => b.length)}`);
    assert.ok(sink.batches.filter((batch) => batch.length === 10).length >= 2, `batches of ${sink.batches.map((b) => b.length)}`);
  });

  test('a sink failing for a while: its events are retried with backoff and all stored, none dead-lettered', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('retry')}orders`);
    const ids = await stream.publishMany(orders(20));
    const sink = new MemorySink();
    sink.fail(3, () => new SinkUnavailableError('memory: the database is restarting'));
    const pipeline = await run({ name: 'retrying', sinks: [sink], batch: { size: 20, linger: 20 } }, stream.name);
    const retried = new Set<string>();
    const deliveries: number[] = [];
    pipeline.worker.on('retrying', ({ event, deliveryCount }) => {
      retried.add(event.id);
      deliveries.push(deliveryCount);
    });
    await waitFor(() => sink.stored.size === 20, { message: () => `stored ${sink.stored.size} of 20` });
    await pipeline.idle();
    assert.deepEqual([...sink.stored.keys()].sort(), [...ids].sort());
    assert.ok(retried.size > 0, 'events of the failed batches were retried');
    assert.ok(Math.max(...deliveries) >= 2, 'a retried event was delivered again (its count in the PEL grew)');
    assert.equal(pipeline.stats().deadLettered, 0);
    assert.equal(await pendingCount(redis.sluice, stream.name, 'retrying'), 0);
  });

  test('a sink refusing some events of a batch: those are dead-lettered with its message, the others stored and acknowledged', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('reject')}orders`);
    const ids = await stream.publishMany(orders(5));
    const sink = new MemorySink('db');
    const refused = ids[2] as string;
    sink.fail(1, (events) => {
      for (const event of events) if (event.id !== refused) sink.stored.set(event.id, event);
      return new SinkRejectedError('amount violates check constraint "positive"', { eventIds: [refused] });
    });
    const pipeline = await run({ name: 'refusing', sinks: [sink], batch: { size: 5, linger: 1000 } }, stream.name);
    await pipeline.idle();
    const letters = await stream.deadLetters().list();
    assert.equal(letters.length, 1);
    assert.equal(letters[0]?.originalId, refused);
    assert.equal(letters[0]?.reason, 'non-retryable');
    assert.match(letters[0]?.error ?? '', /db refused the event: amount violates check constraint "positive"/);
    assert.deepEqual([...sink.stored.keys()].sort(), ids.filter((id) => id !== refused).sort());
    assert.equal(pipeline.stats().deadLettered, 1);
    assert.equal(pipeline.stats().written.db, 4);
    assert.equal(await pendingCount(redis.sluice, stream.name, 'refusing'), 0);
  });

  test('a map that fails on an event dead-letters it with the expression and the error; the others go on', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('poison')}orders`);
    const [good, bad] = await stream.publishMany([orderEvent(1), { ...orderEvent(2), amount: 'n/a' }]);
    const sink = new MemorySink();
    const pipeline = await run({ name: 'mapper', steps: [{ map: { cents: 'string(int(double(amount) * 100.0))' } }], sinks: [sink] }, stream.name);
    await pipeline.idle();
    assert.deepEqual([...sink.stored.keys()], [good]);
    const [letter] = await stream.deadLetters().list();
    assert.equal(letter?.originalId, bad);
    assert.equal(letter?.reason, 'non-retryable');
    assert.equal(letter?.deliveryCount, 1, 'dead-lettered at once, not retried');
    assert.match(letter?.error ?? '', /steps\[0\]\.map\.cents `string\(int\(double\(amount\) \* 100\.0\)\)` failed: .*double/);
    assert.equal(letter?.fields.amount, 'n/a');
  });

  test('an event sent to two sinks is acknowledged only once both stored it', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('fanout')}orders`);
    const [id] = await stream.publishMany(orders(1));
    const db = new MemorySink('db');
    const hook = new MemorySink('hook');
    hook.hold();
    const pipeline = await run({ name: 'fanout', steps: [{ route: [{ when: 'true', to: [db, hook] }] }], batch: { size: 1 } }, stream.name);
    await waitFor(() => db.stored.has(id as string) && hook.batches.length === 1, { message: 'the first sink stored the event, the second is writing' });
    assert.equal(await pendingCount(redis.sluice, stream.name, 'fanout'), 1, 'not acknowledged while one sink has not stored it');
    hook.release();
    await pipeline.idle();
    assert.ok(hook.stored.has(id as string));
    assert.equal(await pendingCount(redis.sluice, stream.name, 'fanout'), 0);
  });

  test('close writes the waiting events at once (no linger), acknowledges them and closes the sinks', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('close')}orders`);
    await stream.publishMany(orders(3));
    const sink = new MemorySink();
    const pipeline = await run({ name: 'closing', sinks: [sink], batch: { size: 100, linger: '1h' } }, stream.name);
    await waitFor(() => pipeline.worker.inFlight === 3, { message: 'the three events wait in the batch' });
    assert.equal(sink.stored.size, 0);
    const started = performance.now();
    await pipeline.close();
    assert.ok(performance.now() - started < 5000);
    assert.equal(sink.stored.size, 3);
    assert.equal(sink.closed, true);
    assert.equal(await pendingCount(redis.sluice, stream.name, 'closing'), 0);
  });

  test('sinks from configs are built by the run and closed with it: SQLite and JSON Lines', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('configs')}orders`);
    const ids = await stream.publishMany(orders(30));
    const db = join(dir.path, 'orders.db');
    const file = join(dir.path, 'big.jsonl');
    const pipeline = await run(
      {
        name: 'to-files',
        steps: [{ route: [{ when: 'double(amount) >= 250.0', to: [{ type: 'jsonl', path: file }] }] }],
        sinks: [{ type: 'sqlite', path: db, table: 'orders' }],
      },
      stream.name,
    );
    await pipeline.idle();
    await pipeline.close();
    const rows = new Database(db, { readonly: true }).prepare('SELECT COUNT(*) AS n FROM orders').get() as { n: number };
    const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
    assert.equal(rows.n + lines.length, ids.length);
    assert.equal(pipeline.stats().written['sqlite:orders'], rows.n);
    assert.equal(pipeline.stats().written[`file:${file}`], lines.length);
  });

  test('a pipeline restarted with the same group goes on where it was: nothing is written twice', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('resume')}orders`);
    await stream.publishMany(orders(10));
    const sink = new MemorySink();
    const first = await run({ name: 'resume', sinks: [sink] }, stream.name);
    await first.idle();
    await first.close();
    const more = await stream.publishMany(orders(5, 100));
    const again = new MemorySink();
    const second = await run({ name: 'resume', sinks: [again] }, stream.name);
    await second.idle();
    assert.deepEqual([...again.stored.keys()].sort(), [...more].sort());
    assert.equal(sink.stored.size, 10);
  });
});
