import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { compareIds, DecodeError, InvalidFieldError, SchemaValidationError, type FieldsEvent, type FieldsInput } from '../../src/index.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useSluice } from '../helpers/sluice-fixture.js';
import { cliLength, cliRange, collect, commandCalls } from '../helpers/streams.js';

const redis = useSluice();

function isIdOrder(ids: string[]): boolean {
  return ids.every((id, i) => i === 0 || compareIds(ids[i - 1] as string, id) < 0);
}

/** Asserts the call rejects with InvalidFieldError naming `field`, and that nothing was sent. */
async function rejectsField(key: string, call: () => Promise<unknown>, field: string, pattern: RegExp): Promise<void> {
  const xadds = await commandCalls(redis.server, 'xadd');
  await assert.rejects(call, (error: unknown) => {
    assert.ok(error instanceof InvalidFieldError, `expected InvalidFieldError, got ${String(error)}`);
    assert.equal(error.code, 'ERR_INVALID_FIELD');
    assert.equal(error.field, field);
    assert.match(error.message, pattern);
    return true;
  });
  assert.equal(await commandCalls(redis.server, 'xadd'), xadds, 'no XADD was sent');
  assert.equal(await redis.server.cli('EXISTS', key), '0', 'nothing was written');
}

describe('publish', () => {
  test('publish and publishMany resolve to the IDs, in order', async () => {
    const orders = redis.sluice.stream(`${uniquePrefix('pub')}orders`);
    const xadds = await commandCalls(redis.server, 'xadd');
    const first = await orders.publish({ n: '1' });
    const many = await orders.publishMany([{ n: '2' }, { n: '3' }, { n: '4' }]);
    const last = await orders.publish({ n: '5' });
    const ids = [first, ...many, last];
    assert.equal(ids.length, 5);
    assert.equal(await commandCalls(redis.server, 'xadd'), xadds + 5, 'one XADD per event');
    assert.ok(isIdOrder(ids), `IDs in order: ${ids.join(' ')}`);
    const stored = await cliRange(redis.server, orders.name);
    assert.deepEqual(stored.map(([id]) => id), ids);
    assert.deepEqual(stored.map(([, fields]) => fields), [['n', '1'], ['n', '2'], ['n', '3'], ['n', '4'], ['n', '5']]);
    assert.deepEqual(await orders.publishMany([]), []);
  });

  test('5000 concurrent publishes all resolve with distinct, increasing IDs', async () => {
    const orders = redis.sluice.stream(`${uniquePrefix('pub')}orders`);
    const count = 5000;
    const ids = await Promise.all(Array.from({ length: count }, (_, i) => orders.publish({ seq: i, status: 'pending' })));
    assert.equal(new Set(ids).size, count);
    assert.ok(isIdOrder(ids), 'IDs increase in the order of the calls');
    assert.equal(await cliLength(redis.server, orders.name), count);
    const events = await orders.range();
    assert.equal(events.length, count);
    assert.deepEqual(events.map((e) => e.id), ids);
    assert.ok(events.every((e, i) => e.fields.seq === String(i)));
  });

  test('numbers, booleans and bigints are stored as text', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('pub')}typed`);
    await stream.publish({ qty: 3, price: 99.99, neg: -0.5, paid: true, gift: false, big: 12345678901234567890n });
    const [[, fields] = ['', []]] = await cliRange(redis.server, stream.name);
    assert.deepEqual(fields, ['qty', '3', 'price', '99.99', 'neg', '-0.5', 'paid', 'true', 'gift', 'false', 'big', '12345678901234567890']);
  });

  test('nested values, null, undefined, $ names and empty events are rejected and nothing is written', async () => {
    const key = `${uniquePrefix('pub')}bad`;
    const stream = redis.sluice.stream(key);
    const loose = stream as unknown as { publish(e: unknown): Promise<string>; publishMany(e: unknown[]): Promise<string[]> };
    await rejectsField(key, () => loose.publish({ order_id: '1', customer: { id: 5 } }), 'customer', /`customer`.*json codec/);
    await rejectsField(key, () => loose.publish({ order_id: '1', items: ['a'] }), 'items', /`items`.*an array/);
    await rejectsField(key, () => loose.publish({ order_id: '1', note: null }), 'note', /`note`.*null/);
    await rejectsField(key, () => loose.publish({ order_id: '1', note: undefined }), 'note', /`note`.*undefined/);
    await rejectsField(key, () => loose.publish({ order_id: '1', $key: 'k' }), '$key', /`\$key`.*reserved/);
    await rejectsField(key, () => loose.publish({}), '', /at least one field/);
    // One bad event in a batch: none of the batch is written.
    await rejectsField(key, () => loose.publishMany([{ n: '1' }, { n: '2' }, { n: { deep: true } }]), 'n', /`n`/);
  });

  test('the json codec round-trips nested data in one data field', async () => {
    type Order = { order_id: number; customer: { id: string; vip: boolean }; items: Array<{ sku: string; qty: number }>; note: null };
    const orders = redis.sluice.stream<Order>(`${uniquePrefix('pub')}json`, { codec: 'json' });
    const order: Order = { order_id: 12345, customer: { id: 'c-67890', vip: true }, items: [{ sku: 'A-1', qty: 2 }, { sku: 'B-7', qty: 1 }], note: null };
    const id = await orders.publish(order);
    assert.deepEqual(await cliRange(redis.server, orders.name), [[id, ['data', JSON.stringify(order)]]]);
    const [read] = await collect(orders.read({ from: '0' }));
    assert.deepEqual(read, { stream: orders.name, id, time: Number(id.split('-')[0]), data: order });
    const [ranged] = await orders.range();
    assert.deepEqual(ranged?.data, order);
  });

  test('a json read of an entry with invalid JSON throws DecodeError, or skips it with onInvalid: skip', async () => {
    const key = `${uniquePrefix('pub')}json-bad`;
    const orders = redis.sluice.stream<{ ok: number }>(key, { codec: 'json' });
    const badId = await redis.server.cli('XADD', key, '*', 'data', '{not json');
    const goodId = await orders.publish({ ok: 1 });
    await assert.rejects(collect(orders.read({ from: '0' })), (error: unknown) => {
      assert.ok(error instanceof DecodeError);
      assert.equal(error.code, 'ERR_DECODE');
      assert.equal(error.eventId, badId);
      assert.match(error.message, new RegExp(`event ${badId}.*not valid JSON`));
      return true;
    });
    await assert.rejects(orders.range(), DecodeError);
    const skipped = await collect(orders.read({ from: '0', onInvalid: 'skip' }));
    assert.deepEqual(skipped.map((e) => [e.id, e.data]), [[goodId, { ok: 1 }]]);
  });

  test('a zod schema rejects a bad event at publish, and nothing is written', async () => {
    const key = `${uniquePrefix('pub')}schema`;
    const schema = z.object({ order_id: z.string().min(1), amount: z.coerce.number().positive() });
    const orders = redis.sluice.stream(key, { schema });
    const xadds = await commandCalls(redis.server, 'xadd');
    await assert.rejects(orders.publish({ order_id: '', amount: '-5' }), (error: unknown) => {
      assert.ok(error instanceof SchemaValidationError);
      assert.equal(error.code, 'ERR_SCHEMA');
      assert.deepEqual(error.issues.map((i) => i.path?.[0]).sort(), ['amount', 'order_id']);
      return true;
    });
    await assert.rejects(orders.publishMany([{ order_id: '1', amount: 5 }, { order_id: '2', amount: 'lots' }]), SchemaValidationError);
    assert.equal(await commandCalls(redis.server, 'xadd'), xadds);
    assert.equal(await redis.server.cli('EXISTS', key), '0');
  });

  test('a zod schema at read: its coerced output becomes the fields; failures throw or are skipped', async () => {
    const key = `${uniquePrefix('pub')}schema-read`;
    const schema = z.object({ order_id: z.string(), amount: z.coerce.number() });
    const orders = redis.sluice.stream<FieldsInput, FieldsEvent<z.output<typeof schema>>>(key, { schema });
    const id = await orders.publish({ order_id: '12345', amount: '99.99' });
    assert.deepEqual(await cliRange(redis.server, key), [[id, ['order_id', '12345', 'amount', '99.99']]]);
    const [event] = await collect(orders.read({ from: '0' }));
    assert.deepEqual(event?.fields, { order_id: '12345', amount: 99.99 });
    assert.equal(typeof event?.fields.amount, 'number');
    const [ranged] = await orders.range();
    assert.deepEqual(ranged?.fields, { order_id: '12345', amount: 99.99 });

    const badId = await redis.server.cli('XADD', key, '*', 'order_id', '7', 'amount', 'abc');
    await assert.rejects(collect(orders.read({ from: '0' })), (error: unknown) => error instanceof SchemaValidationError && error.eventId === badId);
    const skipped = await collect(orders.read({ from: '0', onInvalid: 'skip' }));
    assert.deepEqual(skipped.map((e) => e.id), [id]);
  });
});
