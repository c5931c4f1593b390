import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { createMetrics, instrumentWorker } from '../../src/observe/metrics.js';
import { connect, InvalidOptionError, NonRetryableError } from '../../src/index.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useSluice } from '../helpers/sluice-fixture.js';
import { waitFor } from '../helpers/wait.js';

interface LogLine {
  level: number;
  msg: string;
  stream?: string;
  group?: string;
  consumer?: string;
  eventId?: string;
  [key: string]: unknown;
}

const WARN = 40;
const INFO = 30;

const lines: LogLine[] = [];
// pino writes each line to any object with write(): the lines are captured as they are written.
const destination = { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) };
const redis = useSluice({ connect: { logger: pino({ level: 'info' }, destination) } });

test('ctx.log lines carry the stream, group, consumer and event ID', async () => {
  const name = `${uniquePrefix('logs')}events:orders`;
  const stream = redis.sluice.stream(name);
  const ids = [await stream.publish({ order_id: '1', amount: '5' }), await stream.publish({ order_id: '2', amount: '7' })];
  const worker = stream.consume({ group: 'billing', consumer: 'worker-1', startFrom: '0' }, (event, ctx) => {
    ctx.log.info({ amount: event.fields.amount }, 'charged');
  });
  try {
    await waitFor(() => lines.filter((l) => l.msg === 'charged' && l.stream === name).length === 2, { message: () => JSON.stringify(lines) });
  } finally {
    await worker.close();
  }
  const charged = lines.filter((l) => l.msg === 'charged' && l.stream === name);
  assert.deepEqual(
    charged.map((l) => ({ level: l.level, stream: l.stream, group: l.group, consumer: l.consumer, eventId: l.eventId, amount: l.amount })),
    [
      { level: INFO, stream: name, group: 'billing', consumer: 'worker-1', eventId: ids[0], amount: '5' },
      { level: INFO, stream: name, group: 'billing', consumer: 'worker-1', eventId: ids[1], amount: '7' },
    ],
  );
});

test("the worker's own lines (a dead letter nobody listens for) carry stream, group, consumer and event ID", async () => {
  const name = `${uniquePrefix('logs')}events:orders`;
  const stream = redis.sluice.stream(name);
  const id = await stream.publish({ order_id: 'bad' });
  const worker = stream.consume({ group: 'billing', consumer: 'worker-2', startFrom: '0' }, () => {
    throw new NonRetryableError('order bad cannot be charged');
  });
  const deadLettered = () => lines.find((l) => l.stream === name && l.eventId === id && l.reason === 'non-retryable');
  try {
    await waitFor(deadLettered, { message: () => JSON.stringify(lines) });
  } finally {
    await worker.close();
  }
  const line = deadLettered() as LogLine;
  assert.equal(line.level, WARN);
  assert.equal(line.group, 'billing');
  assert.equal(line.consumer, 'worker-2');
  assert.equal(line.error, 'order bad cannot be charged');
  assert.equal(line.deliveryCount, 1);
  assert.match(String(line.deadLetterId), /^\d+-\d+$/);
  assert.equal(line.msg, `dead-lettered ${id} (non-retryable)`);
});

test('with a listener the dead letter is its business: the line drops to debug (not written at info)', async () => {
  const name = `${uniquePrefix('logs')}events:orders`;
  const stream = redis.sluice.stream(name);
  const id = await stream.publish({ order_id: 'bad' });
  const worker = stream.consume({ group: 'billing', startFrom: '0' }, (_event, ctx) => ctx.deadLetter('refused'));
  const heard: string[] = [];
  worker.on('dead-lettered', (e) => heard.push(e.id));
  try {
    await waitFor(() => heard.length === 1);
  } finally {
    await worker.close();
  }
  assert.deepEqual(heard, [id]);
  assert.deepEqual(lines.filter((l) => l.stream === name), []);
});

test('metrics only watch: with a worker instrumented, its dead letters are still logged at warn, and counted', async () => {
  const name = `${uniquePrefix('logs')}events:orders`;
  const stream = redis.sluice.stream(name);
  const id = await stream.publish({ order_id: 'bad' });
  const metrics = createMetrics({ registry: new Registry() });
  const worker = stream.consume({ group: 'billing', consumer: 'worker-3', startFrom: '0' }, (_event, ctx) => ctx.deadLetter('refused'));
  const detach = instrumentWorker(metrics, worker);
  const deadLettered = () => lines.find((l) => l.stream === name && l.eventId === id && l.level === WARN);
  try {
    await waitFor(deadLettered, { message: () => JSON.stringify(lines.filter((l) => l.stream === name)) });
  } finally {
    detach();
    await worker.close();
  }
  assert.match(deadLettered()?.msg ?? '', new RegExp(`^dead-lettered ${id} \\(`));
  const scraped = await metrics.registry.metrics();
  assert.match(scraped, new RegExp(`sluice_worker_dead_lettered_total\\{[^}]*stream="${name}"[^}]*\\} 1`));
});

test('connect refuses a logger that is not one', async () => {
  await assert.rejects(connect({ url: redis.server.url, logger: {} as never }), (error: unknown) => {
    assert.ok(error instanceof InvalidOptionError, String(error));
    assert.equal(error.option, 'logger');
    return true;
  });
});

test("a worker error nobody listens for is logged at error, bound to the worker's stream, group and consumer", async () => {
  const name = `${uniquePrefix('logs')}events:orders`;
  const stream = redis.sluice.stream(name);
  const worker = stream.consume({ group: 'billing', consumer: 'worker-3', block: 100 }, () => undefined);
  const lost = () => lines.find((l) => l.stream === name && /group billing was lost/.test(l.msg));
  try {
    await worker.ready;
    await redis.server.cli('DEL', name);
    await waitFor(lost, { message: () => JSON.stringify(lines) });
  } finally {
    await worker.close();
  }
  const line = lost() as LogLine;
  assert.equal(line.level, 50);
  assert.equal(line.group, 'billing');
  assert.equal(line.consumer, 'worker-3');
  assert.equal(typeof (line.err as { message?: unknown } | undefined)?.message, 'string');
});
