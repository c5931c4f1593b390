import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { BackpressureError, connect, type ProducerEvents, type Sluice } from '../../src/index.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useSluice } from '../helpers/sluice-fixture.js';
import { cliLength, commandCalls } from '../helpers/streams.js';
import { waitFor } from '../helpers/wait.js';

const logged: Array<{ level: number; msg: string }> = [];
const destination = { write: (line: string) => void logged.push(JSON.parse(line) as { level: number; msg: string }) };
const redis = useSluice({ connect: { publisher: { maxBatch: 100 }, logger: pino({}, destination) } });

/** Records every producer event of `names` until `stop()`. */
function record<K extends keyof ProducerEvents>(target: Sluice, ...names: K[]) {
  const seen: Array<{ name: K; payload: ProducerEvents[K] }> = [];
  const listeners = names.map((name) => {
    const listener = (payload: ProducerEvents[K]) => seen.push({ name, payload });
    target.on(name, listener);
    return () => target.off(name, listener);
  });
  return { seen, stop: () => listeners.forEach((off) => off()) };
}

test("N publishes → the 'published' counts add up to N per stream; 'batch' sizes add up to every publish sent", async () => {
  const orders = redis.sluice.stream(`${uniquePrefix('events')}events:orders`);
  const clicks = redis.sluice.stream(`${uniquePrefix('events')}events:clicks`);
  const deduped = redis.sluice.stream(`${uniquePrefix('events')}events:payments`);
  // The idempotent-publish script loaded first, so no publish is sent twice (after NOSCRIPT).
  await redis.sluice.stream(`${uniquePrefix('events')}warm-up`).publish({ n: 0 }, { idempotencyKey: 'warm-up' });
  const events = record(redis.sluice, 'published', 'batch');
  try {
    // 1000 + 250 in one tick (many batches of at most maxBatch), then 150 via publishMany, then
    // 20 idempotent publishes (an EVALSHA each, counted under their stream) of which 10 repeat.
    await Promise.all([
      ...Array.from({ length: 1000 }, (_, n) => orders.publish({ n })),
      ...Array.from({ length: 250 }, (_, n) => clicks.publish({ n })),
    ]);
    await orders.publishMany(Array.from({ length: 150 }, (_, n) => ({ n: 1000 + n })));
    await Promise.all(Array.from({ length: 20 }, (_, n) => deduped.publish({ n }, { idempotencyKey: `payment-${n % 10}` })));
  } finally {
    events.stop();
  }
  const published = new Map<string, number>();
  let batched = 0;
  let batches = 0;
  for (const { name, payload } of events.seen) {
    if (name === 'published') {
      const { stream, count } = payload as ProducerEvents['published'];
      assert.ok(count > 0, `count ${count}`);
      published.set(stream, (published.get(stream) ?? 0) + count);
    } else {
      const { events: size, ms } = payload as ProducerEvents['batch'];
      assert.ok(size >= 1 && size <= 100, `a batch of ${size} (maxBatch 100)`);
      assert.ok(ms >= 0 && ms < 10_000, `${ms} ms`);
      batched += size;
      batches++;
    }
  }
  // Every publish resolved with an ID (a repeated idempotency key resolves to the first one's).
  assert.deepEqual(Object.fromEntries(published), { [orders.name]: 1150, [clicks.name]: 250, [deduped.name]: 20 });
  assert.equal(batched, 1420);
  assert.ok(batches >= 15, `${batches} batches`);
  assert.equal(await cliLength(redis.server, orders.name), 1150);
  assert.equal(await cliLength(redis.server, deduped.name), 10);
});

test("a backpressure refusal emits 'backpressure' { action: 'reject' }; a wait emits { action: 'wait', waitMs }", async () => {
  const name = `${uniquePrefix('events')}events:orders`;
  const events = record(redis.sluice, 'backpressure');
  try {
    const refusing = redis.sluice.stream(name, { backpressure: { maxLen: 3, onLimit: 'reject' } });
    for (let n = 0; n < 3; n++) await refusing.publish({ n });
    await assert.rejects(refusing.publish({ n: 3 }), BackpressureError);
    assert.deepEqual(events.seen, [{ name: 'backpressure', payload: { stream: name, action: 'reject', waitMs: 0, limit: 'max-len' } }]);

    const waiting = redis.sluice.stream(name, { backpressure: { maxLen: 3, onLimit: 'block', cacheFor: 10, timeout: 10_000 } });
    const xlens = await commandCalls(redis.server, 'xlen');
    const blocked = waiting.publish({ n: 4 });
    // Held back (the gate found the stream full) until there is room: make some.
    await waitFor(async () => (await commandCalls(redis.server, 'xlen')) > xlens, { message: 'the gate measured the stream' });
    assert.equal(events.seen.length, 1, 'nothing reported while the publish waits');
    await redis.server.cli('XTRIM', name, 'MAXLEN', '1');
    await blocked;
    assert.equal(events.seen.length, 2);
    const wait = events.seen[1]?.payload as ProducerEvents['backpressure'];
    assert.deepEqual({ ...wait, waitMs: 0 }, { stream: name, action: 'wait', waitMs: 0, limit: 'max-len' });
    assert.ok(wait.waitMs > 0 && wait.waitMs < 10_000, `waited ${wait.waitMs} ms`);
  } finally {
    events.stop();
  }
});

test("a full producer buffer with onFull 'reject' emits 'backpressure' { limit: 'buffer' }", async () => {
  const small = await connect({ url: redis.server.url, publisher: { maxBuffered: 2, onFull: 'reject' } });
  const events = record(small, 'backpressure', 'published');
  try {
    const name = `${uniquePrefix('events')}events:orders`;
    const stream = small.stream(name);
    const results = await Promise.allSettled([0, 1, 2].map((n) => stream.publish({ n })));
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected']);
    assert.ok((results[2] as PromiseRejectedResult).reason instanceof BackpressureError);
    assert.deepEqual(events.seen, [
      { name: 'backpressure', payload: { stream: name, action: 'reject', waitMs: 0, limit: 'buffer' } },
      { name: 'published', payload: { stream: name, count: 2 } },
    ]);
  } finally {
    events.stop();
    await small.close();
  }
});

test('a listener that throws breaks no publish: the error is logged', async () => {
  const stream = redis.sluice.stream(`${uniquePrefix('events')}events:orders`);
  const listener = () => {
    throw new Error('listener bug');
  };
  redis.sluice.on('published', listener);
  try {
    assert.match(await stream.publish({ n: 1 }), /^\d+-\d+$/);
  } finally {
    redis.sluice.off('published', listener);
  }
  const line = logged.find((l) => l.msg === 'a listener of published threw');
  assert.ok(line, JSON.stringify(logged));
  assert.equal(line.level, 50);
});
