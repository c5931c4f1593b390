import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { pendingCount } from '../helpers/pending.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useSluice } from '../helpers/sluice-fixture.js';
import { cliRange } from '../helpers/streams.js';
import { waitFor } from '../helpers/wait.js';
import { closeAfterEach, nextEvent, ORDER, ORDER_FIELDS } from './helpers.js';

const redis = useSluice();
const track = closeAfterEach();

// Poison entries reach the dead-letter stream with their reason; the worker goes on with the rest.
describe('poison entries', () => {
  test('json codec: an entry whose data is not JSON (or has no data) is dead-lettered as undecodable, the rest processed', async () => {
    const name = `${uniquePrefix('poison')}payments`;
    const stream = redis.sluice.stream<{ amount: number }>(name, { codec: 'json' });
    const first = await stream.publish({ amount: 1 });
    const badJson = await redis.server.cli('XADD', name, '*', 'data', '{"amount": 1');
    const noData = await redis.server.cli('XADD', name, '*', 'amount', '2');
    const last = await stream.publish({ amount: 3 });
    const seen: Array<[string, number]> = [];
    const worker = track(
      stream.consume({ group: 'ledger', startFrom: '0', block: 50 }, (event) => {
        seen.push([event.id, event.data.amount]);
      }),
    );
    await worker.idle();
    assert.deepEqual(seen, [
      [first, 1],
      [last, 3],
    ]);
    assert.equal(await pendingCount(redis.sluice, name, 'ledger'), 0);
    const letters = await stream.deadLetters().list();
    assert.deepEqual(
      letters.map((l) => [l.originalId, l.reason, l.group, l.deliveryCount, l.fields]),
      [
        [badJson, 'undecodable', 'ledger', 1, { data: '{"amount": 1' }],
        [noData, 'undecodable', 'ledger', 1, { amount: '2' }],
      ],
    );
    assert.match(letters[0]?.error ?? '', /not valid JSON/);
    assert.match(letters[1]?.error ?? '', /`data` field/);
    // The raw entry keeps the bytes exactly as they were written.
    assert.deepEqual((await cliRange(redis.server, `{${name}}:dlq`))[0]?.[1].slice(0, 2), ['data', '{"amount": 1']);
  });

  test('an entry that fails the zod schema is dead-lettered with reason schema', async () => {
    const name = `${uniquePrefix('poison')}orders`;
    const schema = z.object({ order_id: z.string().regex(/^\d+$/), amount: z.coerce.number().positive() }).passthrough();
    const stream = redis.sluice.stream(name, { schema });
    const good = await stream.publish(ORDER);
    const bad = await redis.server.cli('XADD', name, '*', 'order_id', '12346', 'amount', 'lots');
    const seen: unknown[] = [];
    const worker = track(
      stream.consume({ group: 'billing', startFrom: '0', block: 50 }, (event) => {
        seen.push([event.id, event.fields.amount]);
      }),
    );
    const deadLettered = await nextEvent(worker, 'dead-lettered');
    await worker.idle();
    assert.deepEqual(seen, [[good, 99.99]], 'the schema output (coerced) is what the handler gets');
    assert.equal(deadLettered.id, bad);
    assert.equal(deadLettered.reason, 'schema');
    const [letter] = await stream.deadLetters().list();
    assert.equal(letter?.originalId, bad);
    assert.equal(letter?.reason, 'schema');
    assert.match(letter?.error ?? '', /amount/);
    assert.deepEqual(letter?.fields, { order_id: '12346', amount: 'lots' });
    assert.equal(await pendingCount(redis.sluice, name, 'billing'), 0);
  });

  test('an entry deleted (XDEL) while pending and failing is dead-lettered as missing, not dropped', async () => {
    const name = `${uniquePrefix('poison')}orders`;
    const stream = redis.sluice.stream(name);
    const id = await stream.publish(ORDER);
    let calls = 0;
    const worker = track(
      stream.consume({ group: 'billing', startFrom: '0', block: 50, backoff: { initial: 20, jitter: 0 } }, async (event) => {
        calls++;
        // Trimmed away while its first delivery fails: the retry finds no payload.
        assert.equal(await redis.server.cli('XDEL', name, event.id), '1');
        throw new Error('timeout talking to the warehouse');
      }),
    );
    const deadLettered = await nextEvent(worker, 'dead-lettered');
    assert.equal(await pendingCount(redis.sluice, name, 'billing'), 0);
    await worker.idle();
    assert.equal(calls, 1);
    assert.equal(deadLettered.id, id);
    assert.equal(deadLettered.reason, 'missing');
    const [letter] = await stream.deadLetters().list();
    assert.equal(letter?.originalId, id);
    assert.equal(letter?.reason, 'missing');
    assert.equal(letter?.group, 'billing');
    assert.equal(letter?.deliveryCount, 1);
    assert.deepEqual(letter?.fields, {});
  });

  test('an entry deleted while pending on a dead consumer is dead-lettered as missing when reclaimed', async () => {
    const name = `${uniquePrefix('poison')}orders`;
    const stream = redis.sluice.stream(name);
    await redis.server.cli('XGROUP', 'CREATE', name, 'billing', '0', 'MKSTREAM');
    const lost = await redis.server.cli('XADD', name, '*', ...ORDER_FIELDS);
    const kept = await redis.server.cli('XADD', name, '*', ...ORDER_FIELDS);
    // A consumer that took both entries and died; then one of them was deleted.
    await redis.server.cli('XREADGROUP', 'GROUP', 'billing', 'dead-pod', 'COUNT', '2', 'STREAMS', name, '>');
    await redis.server.cli('XDEL', name, lost);
    const seen: string[] = [];
    const reclaimed: string[] = [];
    const worker = track(
      stream.consume({ group: 'billing', startFrom: '0', block: 50, claimIdle: 100 }, (event) => {
        seen.push(event.id);
      }),
    );
    worker.on('reclaimed', ({ ids }) => reclaimed.push(...ids));
    const deadLettered = await nextEvent(worker, 'dead-lettered');
    await waitFor(() => seen.length === 1, { message: 'the surviving entry is processed' });
    await worker.idle();
    assert.deepEqual(seen, [kept]);
    assert.deepEqual(reclaimed.sort(), [lost, kept].sort());
    assert.equal(deadLettered.id, lost);
    const [letter] = await stream.deadLetters().list();
    assert.equal(letter?.originalId, lost);
    assert.equal(letter?.reason, 'missing');
    assert.equal(letter?.group, 'billing');
    assert.equal(letter?.deliveryCount, null, 'Redis dropped it from the PEL with its count');
    assert.equal(await pendingCount(redis.sluice, name, 'billing'), 0);
  });
});
