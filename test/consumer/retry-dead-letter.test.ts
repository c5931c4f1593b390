import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { idTime, NonRetryableError, TimeoutError } from '../../src/index.js';
import { pendingCount } from '../helpers/pending.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useSluice } from '../helpers/sluice-fixture.js';
import { cliLength, cliRange } from '../helpers/streams.js';
import { waitFor } from '../helpers/wait.js';
import { closeAfterEach, delay, nextEvent, ORDER, ORDER_FIELDS, pendingEntries } from './helpers.js';

const redis = useSluice();
const track = closeAfterEach();

const dlqKey = (stream: string) => `{${stream}}:dlq`;

describe('retries and dead letters', () => {
  test('a handler that always fails: dead-lettered after exactly maxDeliveries attempts, with backoff, acked in the same step', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('retry')}orders`);
    const id = await stream.publish(ORDER);
    const attempts: Array<{ at: number; deliveryCount: number }> = [];
    const delays: number[] = [];
    const before = Date.now();
    const worker = track(stream.consume(
      { group: 'billing', startFrom: '0', maxDeliveries: 4, backoff: { initial: 50, factor: 2, jitter: 0 }, block: 50 },
      (event, ctx) => {
        attempts.push({ at: performance.now(), deliveryCount: ctx.deliveryCount });
        throw new Error(`payment service refused order ${event.fields.order_id}`);
      },
    ));
    worker.on('retrying', ({ delayMs }) => delays.push(delayMs));
    const deadLettered = await nextEvent(worker, 'dead-lettered');
    // The XADD to the DLQ and the XACK are one script: nothing is pending once it has run.
    assert.equal(await pendingCount(redis.sluice, stream.name, 'billing'), 0);
    const afterDlq = Date.now();
    await worker.idle();
    await worker.close();

    assert.deepEqual(attempts.map((a) => a.deliveryCount), [1, 2, 3, 4]);
    assert.deepEqual(delays, [50, 100, 200]);
    const gaps = attempts.slice(1).map((a, i) => a.at - (attempts[i] as { at: number }).at);
    gaps.forEach((gap, i) => {
      const expected = 50 * 2 ** i;
      assert.ok(gap >= expected, `gap ${i + 1} is ${gap.toFixed(1)} ms, expected at least ${expected} ms`);
      assert.ok(gap < expected + 500, `gap ${i + 1} is ${gap.toFixed(1)} ms, expected about ${expected} ms`);
    });
    assert.equal(deadLettered.id, id);
    assert.equal(deadLettered.reason, 'max-deliveries');
    assert.equal(deadLettered.deliveryCount, 4);

    const letters = await stream.deadLetters().list();
    assert.deepEqual(letters, [
      {
        id: deadLettered.deadLetterId,
        time: idTime(deadLettered.deadLetterId),
        originalId: id,
        stream: stream.name,
        group: 'billing',
        consumer: worker.consumer,
        reason: 'max-deliveries',
        error: 'payment service refused order 12345',
        deliveryCount: 4,
        fields: ORDER,
      },
    ]);
    // As redis-cli shows it: the original fields first, unchanged, then the `$dlq_` metadata.
    const [raw] = await cliRange(redis.server, dlqKey(stream.name));
    assert.ok(raw);
    assert.equal(raw[0], deadLettered.deadLetterId);
    assert.deepEqual(raw[1].slice(0, ORDER_FIELDS.length), ORDER_FIELDS);
    const meta = Object.fromEntries(chunk(raw[1].slice(ORDER_FIELDS.length)));
    const time = Number(meta.$dlq_time);
    assert.ok(time >= before && time <= afterDlq, `$dlq_time ${time} is the time it was dead-lettered`);
    assert.deepEqual(meta, {
      $dlq_reason: 'max-deliveries',
      $dlq_error: 'payment service refused order 12345',
      $dlq_id: id,
      $dlq_stream: stream.name,
      $dlq_group: 'billing',
      $dlq_deliveries: '4',
      $dlq_consumer: worker.consumer,
      $dlq_time: String(time),
    });
    assert.deepEqual(await pendingEntries(redis.sluice, stream.name, 'billing'), []);
  });

  test('a handler that fails twice then succeeds: processed once, acked, delivery count 1, 2, 3 from the PEL', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('retry')}orders`);
    const id = await stream.publish(ORDER);
    const counts: number[] = [];
    const pelCounts: number[] = [];
    const processed: number[] = [];
    const worker = track(stream.consume(
      { group: 'billing', startFrom: '0', maxDeliveries: 5, backoff: { initial: 10, jitter: 0 }, block: 50 },
      async (_event, ctx) => {
        counts.push(ctx.deliveryCount);
        // Not acked while it fails: it is pending, with the delivery count Redis keeps.
        const [entry] = await pendingEntries(redis.sluice, stream.name, 'billing');
        pelCounts.push(entry?.deliveries ?? 0);
        if (ctx.deliveryCount < 3) throw new Error('not yet');
      },
    ));
    worker.on('processed', ({ event, deliveryCount }) => {
      assert.equal(event.id, id);
      processed.push(deliveryCount);
    });
    await worker.idle();
    await worker.close();
    assert.deepEqual(counts, [1, 2, 3]);
    assert.deepEqual(pelCounts, [1, 2, 3]);
    assert.deepEqual(processed, [3]);
    assert.equal(await pendingCount(redis.sluice, stream.name, 'billing'), 0);
    assert.equal(await cliLength(redis.server, dlqKey(stream.name)), 0);
  });

  test('NonRetryableError dead-letters at once: one handler call', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('retry')}orders`);
    const id = await stream.publish(ORDER);
    let calls = 0;
    const worker = track(stream.consume({ group: 'billing', startFrom: '0', maxDeliveries: 5, backoff: 10, block: 50 }, () => {
      calls++;
      throw new NonRetryableError('customer 67890 does not exist');
    }));
    const deadLettered = await nextEvent(worker, 'dead-lettered');
    assert.equal(await pendingCount(redis.sluice, stream.name, 'billing'), 0);
    await worker.idle();
    await worker.close();
    assert.equal(calls, 1);
    const [letter] = await stream.deadLetters().list();
    assert.equal(letter?.id, deadLettered.deadLetterId);
    assert.equal(letter?.originalId, id);
    assert.equal(letter?.reason, 'non-retryable');
    assert.equal(letter?.error, 'customer 67890 does not exist');
    assert.equal(letter?.deliveryCount, 1);
    assert.deepEqual(letter?.fields, ORDER);
  });

  test('ctx.deadLetter(reason) dead-letters at once with that reason: one handler call', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('retry')}orders`);
    const id = await stream.publish(ORDER, { key: 'customer-67890' });
    let calls = 0;
    const worker = track(stream.consume({ group: 'billing', startFrom: '0', maxDeliveries: 5, backoff: 10, block: 50 }, async (_event, ctx) => {
      calls++;
      await ctx.deadLetter('address-invalid');
    }));
    let processed = 0;
    worker.on('processed', () => processed++);
    await nextEvent(worker, 'dead-lettered');
    assert.equal(await pendingCount(redis.sluice, stream.name, 'billing'), 0);
    await worker.idle();
    await worker.close();
    assert.equal(calls, 1);
    assert.equal(processed, 0, 'the handler resolved, but the entry was dead-lettered, not processed');
    const [letter] = await stream.deadLetters().list();
    assert.equal(letter?.originalId, id);
    assert.equal(letter?.reason, 'address-invalid');
    assert.match(letter?.error ?? '', /address-invalid/);
    assert.equal(letter?.deliveryCount, 1);
    assert.deepEqual(letter?.fields, ORDER);
    assert.deepEqual(letter?.meta, { key: 'customer-67890' });
    assert.equal(await cliLength(redis.server, dlqKey(stream.name)), 1);
  });

  test('handlerTimeout: the attempt fails with TimeoutError, its ctx.signal aborts (even if read late), and it is retried', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('retry')}orders`);
    await stream.publish(ORDER);
    const errors: unknown[] = [];
    let lateAborted: boolean | undefined;
    let lateRead = false;
    const worker = track(stream.consume(
      { group: 'billing', startFrom: '0', handlerTimeout: 100, maxDeliveries: 3, backoff: { initial: 10, jitter: 0 }, block: 50 },
      async (_event, ctx) => {
        if (ctx.deliveryCount === 1) {
          // Looks at its signal only after the timeout, as a handler checking it between steps does.
          await delay(300);
          lateAborted = ctx.signal.aborted;
          lateRead = true;
        }
      },
    ));
    worker.on('failed', ({ error }) => errors.push(error));
    const processed = await nextEvent(worker, 'processed');
    assert.equal(processed.deliveryCount, 2);
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof TimeoutError, `failed with ${String(errors[0])}`);
    await waitFor(() => lateRead, { message: 'the first, timed-out attempt read its signal' });
    assert.equal(lateAborted, true, 'the timed-out attempt sees its signal aborted');
    await worker.idle();
    await worker.close();
    assert.equal(await pendingCount(redis.sluice, stream.name, 'billing'), 0);
  });

  test('the retry budget lives in the PEL: it survives a restart of a worker with the same consumer name', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('retry')}orders`);
    const id = await stream.publish(ORDER);
    const options = { group: 'billing', consumer: 'pod-a', startFrom: '0', maxDeliveries: 3, block: 50 } as const;
    // The first worker fails once, then is closed during its (long) backoff: the entry stays
    // pending on pod-a with one delivery.
    const first = track(stream.consume({ ...options, backoff: 60_000 }, () => {
      throw new Error('downstream unavailable');
    }));
    await nextEvent(first, 'retrying');
    await first.close({ timeout: 1000 });
    assert.deepEqual(
      (await pendingEntries(redis.sluice, stream.name, 'billing')).map((p) => [p.id, p.consumer, p.deliveries]),
      [[id, 'pod-a', 1]],
    );
    const counts: number[] = [];
    const second = track(stream.consume({ ...options, backoff: { initial: 10, jitter: 0 } }, (_event, ctx) => {
      counts.push(ctx.deliveryCount);
      throw new Error('downstream unavailable');
    }));
    const deadLettered = await nextEvent(second, 'dead-lettered');
    await second.close();
    assert.deepEqual(counts, [2, 3], 'the restarted worker continues the count: 3 deliveries in all');
    assert.equal(deadLettered.deliveryCount, 3);
    assert.equal(await pendingCount(redis.sluice, stream.name, 'billing'), 0);
    assert.equal((await stream.deadLetters().list())[0]?.reason, 'max-deliveries');
  });
});

function chunk(flat: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i] as string, flat[i + 1] as string]);
  return out;
}
