import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { DecodeError, SchemaValidationError } from '../errors.js';
import { fieldsCodec, jsonCodec } from './codec.js';
import { decodeEntry, entriesOfXread, isDecodeFailure, type EntryDecoder } from './entries.js';

const plain: EntryDecoder = { stream: 'events:orders', codec: fieldsCodec, schema: undefined };

describe('decodeEntry', () => {
  test('a fields entry becomes { stream, id, time, fields } with no meta', () => {
    const event = decodeEntry(plain, ['1692632086370-0', ['order_id', '12345', 'status', 'pending']]);
    assert.deepEqual(event, { stream: 'events:orders', id: '1692632086370-0', time: 1692632086370, fields: { order_id: '12345', status: 'pending' } });
  });

  test('$ fields go to meta', () => {
    const event = decodeEntry(plain, ['5-0', ['a', '1', '$key', 'c1']]);
    assert.deepEqual(event, { stream: 'events:orders', id: '5-0', time: 5, fields: { a: '1' }, meta: { key: 'c1' } });
  });

  test('a json entry becomes { …, data }', () => {
    const event = decodeEntry({ stream: 's', codec: jsonCodec, schema: undefined }, ['5-1', ['data', '{"a":[1,{"b":null}]}']]);
    assert.deepEqual(event, { stream: 's', id: '5-1', time: 5, data: { a: [1, { b: null }] } });
  });

  test('the schema output (coerced) replaces the payload', () => {
    const schema = z.object({ amount: z.coerce.number() });
    const event = decodeEntry({ stream: 's', codec: fieldsCodec, schema }, ['5-2', ['amount', '99.99']]);
    assert.deepEqual(event, { stream: 's', id: '5-2', time: 5, fields: { amount: 99.99 } });
  });

  test('deleted entries, bad JSON and schema failures throw typed errors', () => {
    assert.throws(() => decodeEntry(plain, ['5-3', null]), (e: unknown) => e instanceof DecodeError && e.eventId === '5-3');
    assert.throws(() => decodeEntry({ stream: 's', codec: jsonCodec, schema: undefined }, ['5-4', ['data', '{']]), DecodeError);
    assert.throws(
      () => decodeEntry({ stream: 's', codec: fieldsCodec, schema: z.object({ amount: z.coerce.number() }) }, ['5-5', ['amount', 'abc']]),
      (e: unknown) => e instanceof SchemaValidationError && e.eventId === '5-5',
    );
  });
});

describe('entriesOfXread', () => {
  test('unwraps the one stream of the reply, or nothing', () => {
    assert.deepEqual(entriesOfXread(null), []);
    assert.deepEqual(entriesOfXread([]), []);
    assert.deepEqual(entriesOfXread([['s', [['1-0', ['a', '1']]]]]), [['1-0', ['a', '1']]]);
  });
});

describe('isDecodeFailure', () => {
  test('is true for decode and schema errors only', () => {
    assert.equal(isDecodeFailure(new DecodeError('1-0', 'x')), true);
    assert.equal(isDecodeFailure(new SchemaValidationError([{ message: 'x' }])), true);
    assert.equal(isDecodeFailure(new Error('x')), false);
  });
});

describe('event time', () => {
  test('is the ID\'s milliseconds, short or long', () => {
    for (const id of ['0-1', '5-0', '1692632086370-12', '999999999999999-0', '18446744073709551615-0']) {
      const event = decodeEntry<{ time: number }>(plain, [id, ['a', '1']]);
      assert.equal(event instanceof Promise ? NaN : event.time, Number(id.slice(0, id.indexOf('-'))), id);
    }
  });
});
