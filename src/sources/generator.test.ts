import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidOptionError } from '../errors.js';
import { compileFieldTemplate, GeneratorSource, orderEvent } from './generator.js';

/** A repeatable random source. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

test('orderEvent is the guide\'s four-field order event, all strings', () => {
  const event = orderEvent(12345, seeded(1));
  assert.deepEqual(Object.keys(event), ['order_id', 'customer_id', 'amount', 'status']);
  assert.equal(event.order_id, '12345');
  assert.match(event.customer_id, /^\d{5}$/);
  assert.match(event.amount, /^\d{1,3}\.\d{2}$/);
  assert.ok(['pending', 'paid', 'shipped', 'cancelled'].includes(event.status));
  for (const value of Object.values(event)) assert.equal(typeof value, 'string');
});

test('orderEvent is pure: the same sequence and random numbers give the same event', () => {
  assert.deepEqual(orderEvent(7, seeded(42)), orderEvent(7, seeded(42)));
  assert.deepEqual(orderEvent(1, () => 0), { order_id: '1', customer_id: '10000', amount: '1.00', status: 'pending' });
  assert.deepEqual(orderEvent(2, () => 0.999_999), { order_id: '2', customer_id: '99999', amount: '500.99', status: 'cancelled' });
});

test('orderEvent spreads amounts over 1.00–500.99 and statuses by their weights', () => {
  const random = seeded(7);
  const counts: Record<string, number> = {};
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < 20_000; i++) {
    const { amount, status } = orderEvent(i, random);
    counts[status] = (counts[status] ?? 0) + 1;
    min = Math.min(min, Number(amount));
    max = Math.max(max, Number(amount));
  }
  assert.ok(min >= 1 && min < 2 && max > 499 && max <= 500.99, `amounts from ${min} to ${max}`);
  for (const [status, share] of [['pending', 0.4], ['paid', 0.3], ['shipped', 0.2], ['cancelled', 0.1]] as const) {
    const seen = (counts[status] ?? 0) / 20_000;
    assert.ok(Math.abs(seen - share) < 0.02, `${status}: ${seen} of the events, expected about ${share}`);
  }
});

test('field templates: placeholders are compiled once and filled per event', () => {
  assert.equal(compileFieldTemplate('order-{{seq}}', 'f')(42), 'order-42');
  assert.equal(compileFieldTemplate('constant', 'f')(1), 'constant');
  for (let i = 0; i < 50; i++) {
    const n = Number(compileFieldTemplate('{{int 1 3}}', 'f')(i));
    assert.ok([1, 2, 3].includes(n));
    assert.match(compileFieldTemplate('{{decimal 1 500}}', 'f')(i), /^\d+\.\d{2}$/);
    assert.ok(['home', 'cart'].includes(compileFieldTemplate('{{pick home,cart}}', 'f')(i)));
  }
  assert.match(compileFieldTemplate('{{uuid}}', 'f')(1), /^[0-9a-f-]{36}$/);
  assert.ok(!Number.isNaN(Date.parse(compileFieldTemplate('{{now}}', 'f')(1))));
});

test('bad templates and generator options are refused with the key', () => {
  const refused = (fn: () => unknown, key: string) =>
    assert.throws(fn, (error: unknown) => error instanceof InvalidOptionError && error.option === key);
  refused(() => compileFieldTemplate('{{random}}', 'source.fields.x'), 'source.fields.x');
  refused(() => compileFieldTemplate('{{int 5 1}}', 'source.fields.x'), 'source.fields.x');
  refused(() => compileFieldTemplate('{{seq', 'source.fields.x'), 'source.fields.x');
  refused(() => new GeneratorSource({ type: 'generator', stream: 's', rate: 0 }), 'source.rate');
  refused(() => new GeneratorSource({ type: 'generator', stream: 's', count: 1.5 }), 'source.count');
  refused(() => new GeneratorSource({ type: 'generator', stream: 's', preset: 'clicks' as 'orders' }), 'source.preset');
  refused(() => new GeneratorSource({ type: 'generator', stream: 's', preset: 'orders', fields: { a: 'b' } }), 'source.preset');
  refused(() => new GeneratorSource({ type: 'generator', stream: 's', fields: { a: 3 as unknown as string } }), 'source.fields.a');
  refused(() => new GeneratorSource({ type: 'generator', stream: 's', fields: {} }), 'source.fields');
  const finite = new GeneratorSource({ type: 'generator', stream: 's', count: 5, rate: 0.5 });
  assert.equal(finite.finite, true);
  assert.equal(new GeneratorSource({ type: 'generator', stream: 's' }).finite, false);
});
