import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidInputError, InvalidOptionError, SchemaValidationError, show, SluiceError } from './errors.js';

describe('show', () => {
  test('renders bad values readably', () => {
    assert.equal(show('yesterday'), '`yesterday`');
    assert.equal(show(0), '0');
    assert.equal(show(Number.NaN), 'NaN');
    assert.equal(show(Number.NEGATIVE_INFINITY), '-Infinity');
    assert.equal(show(5n), '5n');
    assert.equal(show(undefined), 'undefined');
    assert.equal(show(null), 'null');
    assert.equal(show({ a: 1 }), '{"a":1}');
    assert.equal(show(new Date(0)), '1970-01-01T00:00:00.000Z');
    assert.equal(show(new Date(Number.NaN)), 'an invalid Date');
    assert.equal(show(() => 1), '() => 1');
  });

  test('cuts long values', () => {
    const text = show('x'.repeat(500));
    assert.equal(text.length, 120);
    assert.ok(text.endsWith('...'));
  });
});

describe('error classes', () => {
  test('carry name, code and the class hierarchy', () => {
    const error = new InvalidOptionError('count', 0, 'a whole number ≥ 1');
    assert.ok(error instanceof InvalidInputError);
    assert.ok(error instanceof SluiceError);
    assert.equal(error.name, 'InvalidOptionError');
    assert.equal(error.code, 'ERR_INVALID_OPTION');
    assert.equal(error.message, 'Expected `count` to be a whole number ≥ 1, got 0');
  });

  test('SchemaValidationError lists the first issues with their paths', () => {
    const error = new SchemaValidationError([{ message: 'Required', path: ['order', { key: 'id' }] }, { message: 'Too small' }], '1-0');
    assert.equal(error.message, 'Event does not match the schema (event 1-0): order.id: Required; Too small');
  });
});
