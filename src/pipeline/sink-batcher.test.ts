import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { NonRetryableError } from '../consumer/worker.js';
import { SinkRejectedError, SinkUnavailableError, type Sink, type SinkContext, type SinkEvent } from '../sinks/sink.js';
import { SinkBatcher } from './sink-batcher.js';

const silent = pino({ level: 'silent' });

/** A sink that records its writes; `next` decides how the next write ends. */
class RecordingSink implements Sink {
  readonly name = 'recording';
  readonly idempotent = true;
  readonly writes: string[][] = [];
  readonly signals: AbortSignal[] = [];
  next: Array<() => Promise<void>> = [];
  closed = false;

  write(events: readonly SinkEvent[], ctx: SinkContext): Promise<void> {
    this.writes.push(events.map((e) => e.id));
    this.signals.push(ctx.signal);
    const outcome = this.next.shift();
    return outcome ? outcome() : Promise.resolve();
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

const event = (n: number): SinkEvent => ({ stream: 's', id: `${n}-0`, time: n, fields: { n: String(n) } });

test('a batch is written as soon as `size` events wait, and each event awaits its batch', async () => {
  const sink = new RecordingSink();
  let written = 0;
  const batcher = new SinkBatcher(sink, { size: 3, lingerMs: 60_000, logger: silent, onWritten: (n) => (written += n) });
  const outcomes = [1, 2, 3, 4].map((n) => batcher.add(event(n)));
  assert.deepEqual(sink.writes, [['1-0', '2-0', '3-0']]);
  assert.equal(batcher.pending, 1);
  assert.deepEqual(await Promise.all(outcomes.slice(0, 3)), [undefined, undefined, undefined]);
  assert.equal(written, 3);
  batcher.flush();
  assert.equal(await outcomes[3], undefined);
  assert.deepEqual(sink.writes, [['1-0', '2-0', '3-0'], ['4-0']]);
  assert.equal(written, 4);
});

test('a partial batch is written after `linger`, counted from its first event', async () => {
  const sink = new RecordingSink();
  const batcher = new SinkBatcher(sink, { size: 100, lingerMs: 30, logger: silent });
  const started = performance.now();
  const first = batcher.add(event(1));
  await new Promise((resolve) => setTimeout(resolve, 10));
  const second = batcher.add(event(2));
  assert.deepEqual(sink.writes, [], 'nothing written before the linger');
  await Promise.all([first, second]);
  const waited = performance.now() - started;
  assert.deepEqual(sink.writes, [['1-0', '2-0']]);
  assert.ok(waited >= 25 && waited < 1000, `written after ${waited.toFixed(0)} ms, expected about 30 ms`);
});

test('a retryable failure rejects every event of the batch with the sink\'s error; it is logged once per outage', async () => {
  const sink = new RecordingSink();
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
  const batcher = new SinkBatcher(sink, { size: 2, lingerMs: 60_000, logger });
  const down = new SinkUnavailableError('recording: connection refused');
  sink.next.push(() => Promise.reject(down), () => Promise.reject(down));
  const first = [batcher.add(event(1)), batcher.add(event(2))];
  const second = [batcher.add(event(3)), batcher.add(event(4))];
  for (const outcome of [...first, ...second]) await assert.rejects(outcome, (error: unknown) => error === down);
  assert.equal(lines.filter((l) => l.includes('failed; the events are retried')).length, 1);
  const again = [batcher.add(event(5)), batcher.add(event(6))];
  assert.deepEqual(await Promise.all(again), [undefined, undefined]);
  assert.equal(lines.filter((l) => l.includes('works again')).length, 1);
});

test('a SinkRejectedError naming events: those fail NonRetryableError with the sink\'s message, the others are stored', async () => {
  const sink = new RecordingSink();
  let written = 0;
  const batcher = new SinkBatcher(sink, { size: 3, lingerMs: 60_000, logger: silent, onWritten: (n) => (written += n) });
  sink.next.push(() => Promise.reject(new SinkRejectedError('check constraint "amount_positive"', { eventIds: ['2-0'] })));
  const outcomes = [1, 2, 3].map((n) => batcher.add(event(n)));
  const rejection = await outcomes[1];
  assert.ok(rejection !== undefined);
  rejection.check('1-0');
  rejection.check('3-0');
  assert.throws(() => rejection.check('2-0'), (error: unknown) => error instanceof NonRetryableError && /recording refused the event: check constraint "amount_positive"/.test(error.message));
  assert.equal(written, 2);
});

test('each refused event is dead-lettered with its own reason when the sink gives one', async () => {
  const sink = new RecordingSink();
  const batcher = new SinkBatcher(sink, { size: 3, lingerMs: 60_000, logger: silent });
  const reasons = new Map([
    ['1-0', 'column `amount` (real, from `amount`) cannot hold `n/a`'],
    ['3-0', 'column `status` may not be empty'],
  ]);
  sink.next.push(() => Promise.reject(new SinkRejectedError('recording: 2 of 3 events refused', { eventIds: ['1-0', '3-0'], reasons })));
  const outcomes = [1, 2, 3].map((n) => batcher.add(event(n)));
  const rejection = await outcomes[0];
  assert.ok(rejection !== undefined);
  rejection.check('2-0');
  assert.throws(() => rejection.check('1-0'), { name: 'NonRetryableError', message: 'recording refused the event: column `amount` (real, from `amount`) cannot hold `n/a`' });
  assert.throws(() => rejection.check('3-0'), { name: 'NonRetryableError', message: 'recording refused the event: column `status` may not be empty' });
});

test('a SinkRejectedError without event IDs refuses the whole batch', async () => {
  const sink = new RecordingSink();
  const batcher = new SinkBatcher(sink, { size: 2, lingerMs: 60_000, logger: silent });
  sink.next.push(() => Promise.reject(new SinkRejectedError('HTTP 422')));
  const [a, b] = [batcher.add(event(1)), batcher.add(event(2))];
  for (const [outcome, id] of [[a, '1-0'], [b, '2-0']] as const) {
    const rejection = await outcome;
    assert.throws(() => rejection?.check(id), NonRetryableError);
  }
});

test('beginClose writes the waiting events at once and stops lingering; drain waits for writes; abort signals them', async () => {
  const sink = new RecordingSink();
  const batcher = new SinkBatcher(sink, { size: 100, lingerMs: 60_000, logger: silent });
  let release!: () => void;
  sink.next.push(() => new Promise<void>((resolve) => (release = resolve)));
  const first = batcher.add(event(1));
  batcher.beginClose();
  assert.deepEqual(sink.writes, [['1-0']]);
  const later = batcher.add(event(2));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(sink.writes, [['1-0'], ['2-0']], 'an event added while closing is written without lingering');
  let drained = false;
  const draining = batcher.drain().then(() => (drained = true));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(drained, false, 'drain waits for the write in flight');
  batcher.abort(new Error('closing'));
  assert.equal(sink.signals[0]?.aborted, true);
  release();
  await draining;
  assert.equal(await first, undefined);
  assert.equal(await later, undefined);
});
