import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { idTime } from '../../src/index.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useSluice } from '../helpers/sluice-fixture.js';
import { cliRange, collect } from '../helpers/streams.js';

// The seed guide's event, as redis-cli writes it.
const SEED = ['order_id', '12345', 'customer_id', '67890', 'amount', '99.99', 'status', 'pending'];
const SEED_FIELDS = { order_id: '12345', customer_id: '67890', amount: '99.99', status: 'pending' };

const redis = useSluice();

describe('interop with redis-cli', () => {
  test('events written by redis-cli XADD are read by Sluice with exactly their fields', async () => {
    const key = `${uniquePrefix('interop')}orders`;
    const id = await redis.server.cli('XADD', key, '*', ...SEED);
    const second = await redis.server.cli('XADD', key, '*', 'order_id', '12346', 'status', 'shipped');
    const orders = redis.sluice.stream(key);

    const read = await collect(orders.read({ from: '0' }));
    assert.deepEqual(read, [
      { stream: key, id, time: idTime(id), fields: SEED_FIELDS },
      { stream: key, id: second, time: idTime(second), fields: { order_id: '12346', status: 'shipped' } },
    ]);
    assert.ok(!('meta' in (read[0] as object)), 'no meta for a plain entry');

    const ranged = await orders.range();
    assert.deepEqual(ranged, read);
    assert.deepEqual(await orders.range({ from: id, to: id }), [read[0]]);
  });

  test('events published by Sluice show exactly their fields in redis-cli XRANGE', async () => {
    const key = `${uniquePrefix('interop')}orders`;
    const orders = redis.sluice.stream(key);
    const id = await orders.publish(SEED_FIELDS);
    const [a, b] = await orders.publishMany([{ order_id: '1' }, { order_id: '2', status: 'paid' }]);
    assert.deepEqual(await cliRange(redis.server, key), [
      [id, SEED],
      [a, ['order_id', '1']],
      [b, ['order_id', '2', 'status', 'paid']],
    ]);
  });

  test('a 4-field event stays 4 fields with retention; the key option adds only $key', async () => {
    const key = `${uniquePrefix('interop')}orders`;
    const orders = redis.sluice.stream(key, { retention: { maxLen: 1000, maxAge: '1h' } });
    const plain = await orders.publish(SEED_FIELDS);
    const keyed = await orders.publish(SEED_FIELDS, { key: 'customer-67890' });
    const typed = await orders.publish(SEED_FIELDS, { type: 'order.created' });
    assert.deepEqual(await cliRange(redis.server, key), [
      [plain, SEED],
      [keyed, [...SEED, '$key', 'customer-67890']],
      [typed, [...SEED, '$type', 'order.created']],
    ]);
    const events = await orders.range();
    assert.deepEqual(events.map((e) => [e.fields, e.meta]), [
      [SEED_FIELDS, undefined],
      [SEED_FIELDS, { key: 'customer-67890' }],
      [SEED_FIELDS, { type: 'order.created' }],
    ]);
  });

  test('$ fields written by another client are read as metadata, not as fields', async () => {
    const key = `${uniquePrefix('interop')}orders`;
    await redis.server.cli('XADD', key, '*', ...SEED, '$key', 'k1', '$tp', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    const [event] = await collect(redis.sluice.stream(key).read({ from: '0' }));
    assert.deepEqual(event?.fields, SEED_FIELDS);
    assert.deepEqual(event?.meta, { key: 'k1', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' });
  });
});
