import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DecodeError, InvalidFieldError, InvalidOptionError } from '../errors.js';
import { codecByName, encodeMeta, fieldsCodec, jsonCodec, splitEntryFields } from './codec.js';

function encode(codec: typeof fieldsCodec, value: unknown): string[] {
  return codec.encode(value, []);
}

function isFieldError(field: string, pattern: RegExp) {
  return (error: unknown) => error instanceof InvalidFieldError && error.code === 'ERR_INVALID_FIELD' && error.field === field && pattern.test(error.message);
}

describe('fieldsCodec.encode', () => {
  test('writes the fields exactly, in order, with nothing added', () => {
    assert.deepEqual(encode(fieldsCodec, { order_id: '12345', customer_id: '67890', amount: '99.99', status: 'pending' }), [
      'order_id', '12345', 'customer_id', '67890', 'amount', '99.99', 'status', 'pending',
    ]);
  });

  test('starts with the head it is given (the XADD head), which it leaves as it was', () => {
    const head = ['XADD', 's', '*'];
    const out = fieldsCodec.encode({ a: '1', b: 2 }, head);
    assert.deepEqual(out, ['XADD', 's', '*', 'a', '1', 'b', '2']);
    assert.deepEqual(head, ['XADD', 's', '*']);
    assert.deepEqual(jsonCodec.encode({ a: 1 }, head), ['XADD', 's', '*', 'data', '{"a":1}']);
    assert.deepEqual(head, ['XADD', 's', '*']);
  });

  test('a getter that removes a field while being read leaves no hole in the command', () => {
    const event: Record<string, unknown> = { a: '1', b: '2' };
    Object.defineProperty(event, 'a', { enumerable: true, get: () => (delete event.b, '1') });
    assert.deepEqual(fieldsCodec.encode(event, ['XADD', 's', '*']), ['XADD', 's', '*', 'a', '1']);
  });

  test('stringifies numbers, booleans and bigints', () => {
    assert.deepEqual(encode(fieldsCodec, { n: 42, f: -1.5, t: true, b: false, big: 12345678901234567890n, e: '' }), [
      'n', '42', 'f', '-1.5', 't', 'true', 'b', 'false', 'big', '12345678901234567890', 'e', '',
    ]);
  });

  test('rejects nested values, null and undefined, naming the field', () => {
    assert.throws(() => encode(fieldsCodec, { ok: '1', nested: { a: 1 } }), isFieldError('nested', /`nested`.*got an object.*json codec/));
    assert.throws(() => encode(fieldsCodec, { list: [1, 2] }), isFieldError('list', /`list`.*an array/));
    assert.throws(() => encode(fieldsCodec, { gone: null }), isFieldError('gone', /`gone`.*null/));
    assert.throws(() => encode(fieldsCodec, { missing: undefined }), isFieldError('missing', /`missing`.*undefined/));
    assert.throws(() => encode(fieldsCodec, { fn: () => 1 }), isFieldError('fn', /`fn`.*function/));
    assert.throws(() => encode(fieldsCodec, { nan: Number.NaN }), isFieldError('nan', /`nan`.*finite number/));
    assert.throws(() => encode(fieldsCodec, { inf: Number.POSITIVE_INFINITY }), isFieldError('inf', /`inf`.*finite number/));
  });

  test('rejects $-prefixed names: they are reserved for metadata', () => {
    assert.throws(() => encode(fieldsCodec, { a: '1', $key: 'k' }), isFieldError('$key', /`\$key`.*reserved/));
    assert.throws(() => encode(fieldsCodec, { $: 'x' }), isFieldError('$', /reserved/));
  });

  test('rejects an empty event, an empty field name and non-objects', () => {
    assert.throws(() => encode(fieldsCodec, {}), isFieldError('', /at least one field/));
    assert.throws(() => encode(fieldsCodec, { '': 'x' }), isFieldError('', /non-empty/));
    for (const value of [null, undefined, 'text', 42, ['a', '1']]) {
      assert.throws(() => encode(fieldsCodec, value), isFieldError('', /Expected the event to be an object/), String(value));
    }
  });
});

describe('fieldsCodec.decode', () => {
  test('returns the fields as they are', () => {
    const fields = { a: '1', b: '2' };
    assert.deepEqual(fieldsCodec.decode(fields, '1-0'), { a: '1', b: '2' });
  });
});

describe('jsonCodec', () => {
  test('writes one data field holding JSON, and reads it back', () => {
    const value = { order: { id: 12345, items: [{ sku: 'A-1', qty: 2 }], note: null }, tags: ['x'], ok: true };
    const out = encode(jsonCodec, value);
    assert.deepEqual(out, ['data', JSON.stringify(value)]);
    assert.deepEqual(jsonCodec.decode({ data: out[1] as string }, '1-0'), value);
  });

  test('takes any JSON value, including null and strings', () => {
    assert.deepEqual(encode(jsonCodec, null), ['data', 'null']);
    assert.deepEqual(encode(jsonCodec, 'hi'), ['data', '"hi"']);
  });

  test('rejects what JSON cannot hold', () => {
    assert.throws(() => encode(jsonCodec, undefined), isFieldError('data', /JSON-serializable, got undefined/));
    assert.throws(() => encode(jsonCodec, () => 1), isFieldError('data', /JSON-serializable/));
    assert.throws(() => encode(jsonCodec, { big: 1n }), isFieldError('data', /JSON-serializable/));
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    assert.throws(() => encode(jsonCodec, circular), isFieldError('data', /JSON-serializable/));
  });

  test('decode throws DecodeError with the event ID for bad JSON or no data field', () => {
    assert.throws(
      () => jsonCodec.decode({ data: '{not json' }, '7-1'),
      (error: unknown) => error instanceof DecodeError && error.code === 'ERR_DECODE' && error.eventId === '7-1' && /not valid JSON/.test(error.message) && error.cause instanceof SyntaxError,
    );
    assert.throws(
      () => jsonCodec.decode({ order_id: '1' }, '7-2'),
      (error: unknown) => error instanceof DecodeError && error.eventId === '7-2' && /`data` field/.test(error.message),
    );
  });
});

describe('codecByName', () => {
  test('knows fields (the default) and json', () => {
    assert.equal(codecByName(undefined), fieldsCodec);
    assert.equal(codecByName('fields'), fieldsCodec);
    assert.equal(codecByName('json'), jsonCodec);
  });

  test('throws InvalidOptionError for anything else', () => {
    assert.throws(
      () => codecByName('avro'),
      (error: unknown) => error instanceof InvalidOptionError && error.code === 'ERR_INVALID_OPTION' && error.option === 'codec' && /got `avro`/.test(error.message),
    );
  });
});

describe('encodeMeta', () => {
  test('adds only the metadata that is set', () => {
    const none: string[] = [];
    encodeMeta({}, none);
    assert.deepEqual(none, []);
    const key: string[] = [];
    encodeMeta({ key: 'customer-1' }, key);
    assert.deepEqual(key, ['$key', 'customer-1']);
    const all: string[] = [];
    encodeMeta({ key: 'k', type: 'order.created', traceparent: '00-abc-def-01', idempotencyKey: 'i1' }, all);
    assert.deepEqual(all, ['$key', 'k', '$type', 'order.created', '$tp', '00-abc-def-01', '$idk', 'i1']);
  });

  test('rejects empty or non-string metadata', () => {
    assert.throws(() => encodeMeta({ key: '' }, []), (e: unknown) => e instanceof InvalidOptionError && e.option === 'key');
    assert.throws(() => encodeMeta({ type: 5 as unknown as string }, []), (e: unknown) => e instanceof InvalidOptionError && e.option === 'type');
  });
});

describe('splitEntryFields', () => {
  test('has no meta for a plain entry', () => {
    const { fields, meta } = splitEntryFields(['order_id', '12345', 'status', 'pending']);
    assert.deepEqual(fields, { order_id: '12345', status: 'pending' });
    assert.equal(meta, undefined);
  });

  test('moves $ fields into meta under their names', () => {
    const { fields, meta } = splitEntryFields(['a', '1', '$key', 'k', '$idk', 'i', '$tp', 't', '$type', 'x', '$custom', 'c', '$', 'dollar']);
    assert.deepEqual(fields, { a: '1', $: 'dollar' });
    assert.deepEqual(meta, { key: 'k', idempotencyKey: 'i', traceparent: 't', type: 'x', custom: 'c' });
  });
});
