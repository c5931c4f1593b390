import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { z } from 'zod';
import { InvalidOptionError, SchemaValidationError } from '../errors.js';
import { assertSchema, validate, type StandardSchemaV1 } from './schema.js';

const order = z.object({ order_id: z.string().min(1), amount: z.coerce.number().positive() });

/** A hand-written asynchronous Standard Schema: accepts strings only. */
const asyncStrings: StandardSchemaV1<unknown, string> = {
  '~standard': {
    version: 1,
    vendor: 'test',
    validate: (value) => Promise.resolve(typeof value === 'string' ? { value } : { issues: [{ message: 'expected a string' }] }),
  },
};

describe('assertSchema', () => {
  test('accepts Standard Schemas and no schema', () => {
    assert.equal(assertSchema(undefined), undefined);
    assert.equal(assertSchema(order), order);
    assert.equal(assertSchema(asyncStrings), asyncStrings);
  });

  test('refuses anything else with InvalidOptionError', () => {
    for (const value of [null, {}, { '~standard': {} }, { parse: () => 1 }, 'zod']) {
      assert.throws(
        () => assertSchema(value),
        (error: unknown) => error instanceof InvalidOptionError && error.code === 'ERR_INVALID_OPTION' && error.option === 'schema',
        JSON.stringify(value),
      );
    }
  });
});

describe('validate', () => {
  test('returns the schema output synchronously for a sync schema (coercions applied)', () => {
    const result = validate(order, { order_id: '1', amount: '99.99' });
    assert.ok(!(result instanceof Promise));
    assert.deepEqual(result, { order_id: '1', amount: 99.99 });
  });

  test('throws SchemaValidationError with the issues, paths and event ID', () => {
    assert.throws(
      () => validate(order, { order_id: '', amount: '-3' }, '5-0'),
      (error: unknown) =>
        error instanceof SchemaValidationError &&
        error.code === 'ERR_SCHEMA' &&
        error.eventId === '5-0' &&
        error.issues.length === 2 &&
        /\(event 5-0\)/.test(error.message) &&
        /order_id: /.test(error.message) &&
        /amount: /.test(error.message),
    );
  });

  test('returns a promise for an async schema', async () => {
    const ok = validate(asyncStrings, 'x');
    assert.ok(ok instanceof Promise);
    assert.equal(await ok, 'x');
    await assert.rejects(Promise.resolve(validate(asyncStrings, 5)), (error: unknown) => error instanceof SchemaValidationError && /expected a string/.test(error.message));
  });
});
