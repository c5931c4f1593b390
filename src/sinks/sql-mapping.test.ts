import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidOptionError } from '../errors.js';
import { OptionReader } from './options.js';
import { convert, parseTableMapping, RowError, rowOf } from './sql-mapping.js';
import type { SinkEvent } from './sink.js';

const mapping = (options: Record<string, unknown>) => parseTableMapping(new OptionReader(options, 'a sqlite sink'), false);

test('without columns: stream, id, time, payload and meta, keyed on (stream, id)', () => {
  const m = mapping({ table: 'orders' });
  assert.deepEqual(m.columns.map((c) => [c.name, c.type, c.nullable]), [
    ['stream', 'text', false],
    ['id', 'text', false],
    ['time', 'timestamp', true],
    ['payload', 'json', true],
    ['meta', 'json', true],
  ]);
  assert.deepEqual(m.key, ['stream', 'id']);
  assert.equal(m.createTable, true);
});

test('the key defaults to the columns from `stream` and `id`, or `id` alone; a configured key wins', () => {
  assert.deepEqual(mapping({ table: 't', columns: { event_id: { from: 'id' }, src: { from: 'stream' }, a: 'text' } }).key, ['src', 'event_id']);
  assert.deepEqual(mapping({ table: 't', columns: { event_id: { from: 'id' }, a: 'text' } }).key, ['event_id']);
  assert.deepEqual(mapping({ table: 't', columns: { order_id: 'text', n: 'integer' }, key: 'order_id' }).key, ['order_id']);
  assert.deepEqual(mapping({ table: 't', columns: { a: 'text', b: 'text' }, key: ['a', 'b'] }).key, ['a', 'b']);
});

test('columns get their source and a default type from it', () => {
  const m = mapping({ table: 't', columns: { id: { from: 'id' }, at: { from: 'time' }, all: { from: 'payload' }, kind: { from: 'meta.type' }, amount: 'real', note: {} } });
  assert.deepEqual(m.columns.map((c) => [c.name, c.type, c.source.kind]), [
    ['id', 'text', 'id'],
    ['at', 'timestamp', 'time'],
    ['all', 'json', 'payload'],
    ['kind', 'text', 'meta-field'],
    ['amount', 'real', 'field-or-path'],
    ['note', 'text', 'field-or-path'],
  ]);
});

test('rows: values converted per column, missing ones NULL, unfit ones a RowError naming event and column', () => {
  const m = mapping({ table: 't', columns: { id: { from: 'id' }, amount: 'real', qty: 'integer', status: { from: 'fields.status', nullable: false } } });
  const event: SinkEvent = { stream: 's', id: '5-0', time: 5, fields: { amount: '9.5', status: 'paid' } };
  assert.deepEqual(rowOf(m, event), ['5-0', 9.5, null, 'paid']);
  assert.throws(() => rowOf(m, { ...event, fields: { amount: 'lots', status: 'paid' } }), (e: unknown) => e instanceof RowError && e.column === 'amount' && /event 5-0: column `amount` \(real, from `amount`\) cannot hold `lots`/.test(e.message));
  assert.throws(() => rowOf(m, { ...event, fields: { amount: '1' } }), /event 5-0 has no value for column `status`/);
});

test('json events: a bare name is a dotted path into data; `fields.x` only reads fields', () => {
  const m = mapping({ table: 't', columns: { id: { from: 'id' }, tier: { from: 'customer.tier' }, raw: { from: 'fields.customer.tier' } } });
  assert.deepEqual(rowOf(m, { stream: 's', id: '1-0', time: 1, data: { customer: { tier: 'gold' } } }), ['1-0', 'gold', null]);
  assert.deepEqual(rowOf(m, { stream: 's', id: '1-0', time: 1, fields: { 'customer.tier': 'flat' } }), ['1-0', 'flat', 'flat']);
});

test('conversions', () => {
  assert.equal(convert('integer', '42'), 42);
  assert.equal(convert('integer', '9223372036854775807'), 9223372036854775807n);
  assert.equal(convert('integer', '9223372036854775808'), undefined);
  assert.equal(convert('integer', '4.2'), undefined);
  assert.equal(convert('integer', 4.2), undefined);
  assert.equal(convert('real', ' 1e3 '), 1000);
  assert.equal(convert('real', ''), undefined);
  assert.equal(convert('real', 'Infinity'), undefined);
  assert.equal(convert('numeric', '0.10'), '0.10');
  assert.equal(convert('numeric', 'ten'), undefined);
  assert.equal(convert('boolean', 'YES'), true);
  assert.equal(convert('boolean', '0'), false);
  assert.equal(convert('boolean', 'maybe'), undefined);
  assert.deepEqual(convert('timestamp', '1700000000000'), new Date(1_700_000_000_000));
  assert.deepEqual(convert('timestamp', '2026-11-25T10:00:00Z'), new Date('2026-11-25T10:00:00Z'));
  assert.equal(convert('timestamp', 'yesterday'), undefined);
  assert.equal(convert('json', '{"a":1}'), '{"a":1}');
  assert.equal(convert('json', 'plain text'), '"plain text"');
  assert.equal(convert('json', { a: [1] }), '{"a":[1]}');
  assert.equal(convert('text', { a: 1 }), '{"a":1}');
  assert.equal(convert('text', 12.5), '12.5');
});

test('bad table options are refused with the option named', () => {
  const fails = (options: Record<string, unknown>, option: string) =>
    assert.throws(() => mapping(options), (e: unknown) => e instanceof InvalidOptionError && e.option === option, `${JSON.stringify(options)} → ${option}`);
  fails({}, 'table');
  fails({ table: 'my table' }, 'table');
  fails({ table: 's.t' }, 'table'); // no schemas in SQLite
  fails({ table: 't', columns: {} }, 'columns');
  fails({ table: 't', columns: { 'bad name': 'text' } }, 'columns.bad name');
  fails({ table: 't', columns: { id: { from: 'id', typ: 'text' } } }, 'columns.id.typ');
  fails({ table: 't', columns: { id: { from: 'meta.' } } }, 'columns.id.from');
  fails({ table: 't', columns: { id: { from: 'a..b' } } }, 'columns.id.from');
  fails({ table: 't', columns: { id: { from: 'id' } }, key: 'nope' }, 'key');
  fails({ table: 't', columns: { id: { from: 'id' } }, createTable: 'yes' }, 'createTable');
  assert.equal(parseTableMapping(new OptionReader({ table: 'analytics.orders' }, 'a postgres sink'), true).table, 'analytics.orders');
});
