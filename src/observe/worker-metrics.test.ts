import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import type { WorkerEvents } from '../consumer/worker-events.js';
import type { EventEnvelope } from '../stream/event.js';
import { TypedEmitter } from './typed-emitter.js';
import { WorkerMetrics, type InstrumentableWorker } from './worker-metrics.js';

/** Enough of a worker for metrics: its events, its identity, and how many watch each event. */
class FakeWorker extends TypedEmitter<WorkerEvents> implements InstrumentableWorker {
  readonly stream = 'events:orders';
  readonly group = 'billing';
  readonly inFlight = 0;
  readonly closed = new Promise<void>(() => undefined);
  readonly watching = new Map<string, number>();

  override watch<K extends keyof WorkerEvents>(name: K, listener: (payload: WorkerEvents[K]) => void): this {
    this.watching.set(name, (this.watching.get(name) ?? 0) + 1);
    return super.watch(name, listener);
  }

  override unwatch<K extends keyof WorkerEvents>(name: K, listener: (payload: WorkerEvents[K]) => void): this {
    this.watching.set(name, (this.watching.get(name) ?? 0) - 1);
    return super.unwatch(name, listener);
  }
}

const event = { stream: 'events:orders', id: '1-0', time: Date.now(), fields: {} } as unknown as EventEnvelope;

async function value(registry: Registry, name: string): Promise<number | undefined> {
  const line = (await registry.metrics()).split('\n').find((l) => l.startsWith(`${name}{`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

test('a worker is counted while instrumented; the returned function stops every count it started', async () => {
  const registry = new Registry();
  const metrics = new WorkerMetrics(registry, 'sluice_', { handlerDuration: [0.1], latency: [1] });
  const worker = new FakeWorker();
  const detach = metrics.instrument(worker);
  const events = ['processed', 'failed', 'retrying', 'reclaimed', 'dead-lettered', 'rate-limited'];
  assert.deepEqual(events.map((name) => worker.watching.get(name)), [1, 1, 1, 1, 1, 1]);

  worker.emit('processed', { event, deliveryCount: 1, durationMs: 5 });
  worker.emit('rate-limited', { waitMs: 250 });
  worker.emit('reclaimed', { ids: ['1-0', '2-0'], count: 2 });
  assert.equal(await value(registry, 'sluice_worker_processed_total'), 1);
  assert.equal(await value(registry, 'sluice_worker_rate_limited_seconds_total'), 0.25);
  assert.equal(await value(registry, 'sluice_worker_reclaimed_total'), 2);

  detach();
  assert.deepEqual(events.map((name) => worker.watching.get(name)), [0, 0, 0, 0, 0, 0]);
  worker.emit('processed', { event, deliveryCount: 1, durationMs: 5 });
  worker.emit('rate-limited', { waitMs: 250 });
  assert.equal(await value(registry, 'sluice_worker_processed_total'), 1, 'counters stay, and stop');
  assert.equal(await value(registry, 'sluice_worker_rate_limited_seconds_total'), 0.25);
  detach(); // twice: nothing more to undo
  assert.deepEqual(events.map((name) => worker.watching.get(name)), [0, 0, 0, 0, 0, 0]);
});
