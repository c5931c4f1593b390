import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compareIds, InvalidStreamIdError, NonRetryableError, type FieldsEvent } from '../../src/index.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useSluice } from '../helpers/sluice-fixture.js';
import { cliRange } from '../helpers/streams.js';
import { waitFor } from '../helpers/wait.js';
import { closeAfterEach } from './helpers.js';

const redis = useSluice();
const track = closeAfterEach();

/** A stream whose worker dead-letters every event it sees for the first time, and records redriven ones. */
async function setup() {
  const stream = redis.sluice.stream(`${uniquePrefix('dlq')}orders`);
  const redriven: FieldsEvent[] = [];
  const worker = track(
    stream.consume({ group: 'billing', block: 50 }, (event) => {
      if (event.meta?.redriven === undefined) throw new NonRetryableError(`order ${event.fields.order_id} is malformed`);
      redriven.push(event);
    }),
  );
  await worker.ready;
  return { stream, dlq: stream.deadLetters(), redriven, worker };
}

describe('dead-letter queue API', () => {
  test('list, then redrive by IDs: back in the stream as new events with their fields and $redriven, gone from the DLQ', async () => {
    const { stream, dlq, redriven } = await setup();
    const ids = [
      await stream.publish({ order_id: '1', amount: '10' }, { key: 'customer-1' }),
      await stream.publish({ order_id: '2', amount: '20' }),
      await stream.publish({ order_id: '3', amount: '30' }),
    ];
    await waitFor(async () => (await dlq.size()) === 3, { message: 'three dead letters' });
    // Dead-lettered concurrently: the DLQ's order is not the stream's.
    const letters = (await dlq.list()).sort((a, b) => compareIds(a.originalId, b.originalId));
    assert.deepEqual(letters.map((l) => [l.originalId, l.reason, l.error, l.fields]), [
      [ids[0], 'non-retryable', 'order 1 is malformed', { order_id: '1', amount: '10' }],
      [ids[1], 'non-retryable', 'order 2 is malformed', { order_id: '2', amount: '20' }],
      [ids[2], 'non-retryable', 'order 3 is malformed', { order_id: '3', amount: '30' }],
    ]);
    assert.deepEqual(letters[0]?.meta, { key: 'customer-1' });
    const inOrder = await dlq.list();
    assert.deepEqual(await dlq.list({ count: 1, from: inOrder[1]?.id }), [inOrder[1]]);

    const [first, second, third] = letters.map((l) => l.id) as [string, string, string];
    const moved = await dlq.redrive({ ids: [first, third] });
    assert.deepEqual([...moved.keys()], [first, third]);
    const newFirst = moved.get(first) as string;
    const newThird = moved.get(third) as string;
    assert.deepEqual((await cliRange(redis.server, stream.name)).slice(3), [
      [newFirst, ['order_id', '1', 'amount', '10', '$key', 'customer-1', '$redriven', ids[0]]],
      [newThird, ['order_id', '3', 'amount', '30', '$redriven', ids[2]]],
    ]);
    assert.equal(await dlq.size(), 1);
    assert.deepEqual((await dlq.list()).map((l) => l.id), [second]);
    // The worker gets them as new events.
    await waitFor(() => redriven.length === 2);
    assert.deepEqual(
      redriven.map((e) => [e.id, e.fields, e.meta]),
      [
        [newFirst, { order_id: '1', amount: '10' }, { key: 'customer-1', redriven: ids[0] }],
        [newThird, { order_id: '3', amount: '30' }, { redriven: ids[2] }],
      ],
    );
    // Already moved: skipped, not sent twice.
    assert.equal((await dlq.redrive({ ids: [first] })).size, 0);
    await assert.rejects(dlq.redrive({ ids: ['not-an-id'] }), InvalidStreamIdError);
  });

  test('redrive all moves every dead letter back; purge deletes the DLQ', async () => {
    const { stream, dlq, redriven } = await setup();
    const ids = await stream.publishMany([{ order_id: '1' }, { order_id: '2' }, { order_id: '3' }, { order_id: '4' }]);
    await waitFor(async () => (await dlq.size()) === 4, { message: 'four dead letters' });
    const moved = await dlq.redrive({ all: true });
    assert.equal(moved.size, 4);
    assert.equal(await dlq.size(), 0);
    await waitFor(() => redriven.length === 4);
    const byOriginal = new Map(redriven.map((e) => [e.meta?.redriven, e.fields.order_id]));
    assert.deepEqual([...byOriginal.keys()].sort(), [...ids].sort());
    ids.forEach((id, i) => assert.equal(byOriginal.get(id), String(i + 1), 'redriven with its own fields'));
    assert.equal((await dlq.redrive({ all: true })).size, 0, 'nothing left to redrive');

    await stream.publishMany([{ order_id: '5' }, { order_id: '6' }]);
    await waitFor(async () => (await dlq.size()) === 2);
    assert.equal(await dlq.purge(), 2);
    assert.equal(await dlq.size(), 0);
    assert.equal(await redis.server.cli('EXISTS', dlq.key), '0');
  });
});
