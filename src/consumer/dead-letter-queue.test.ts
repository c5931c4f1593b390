import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDeadLetter } from './dead-letter-queue.js';

test('a dead-letter entry splits into the original fields and the dead-letter metadata', () => {
  const letter = parseDeadLetter([
    '1700000000000-0',
    ['order_id', '12345', '$key', 'c1', '$dlq_reason', 'max-deliveries', '$dlq_error', 'boom', '$dlq_id', '1699999999999-3',
      '$dlq_stream', 'events:orders', '$dlq_group', 'billing', '$dlq_deliveries', '5', '$dlq_consumer', 'w1', '$dlq_time', '1700000000000'],
  ]);
  assert.deepEqual(letter, {
    id: '1700000000000-0',
    time: 1700000000000,
    originalId: '1699999999999-3',
    stream: 'events:orders',
    group: 'billing',
    consumer: 'w1',
    reason: 'max-deliveries',
    error: 'boom',
    deliveryCount: 5,
    fields: { order_id: '12345' },
    meta: { key: 'c1' },
  });
});

test('an unknown delivery count reads as null', () => {
  const letter = parseDeadLetter(['1-0', ['$dlq_reason', 'missing', '$dlq_deliveries', 'unknown']]);
  assert.equal(letter.deliveryCount, null);
  assert.deepEqual(letter.fields, {});
});
