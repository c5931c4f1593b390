import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidStreamIdError } from '../errors.js';
import { assertStreamId, compareIds, idAtTime, idTime, isStreamId, MAX_SEQ, parseStreamId, previousId, rangeBound } from './stream-id.js';

describe('parseStreamId', () => {
  test('splits <ms>-<seq> into string parts', () => {
    assert.deepEqual(parseStreamId('1692632086370-0'), { ms: '1692632086370', seq: '0' });
    assert.deepEqual(parseStreamId(`18446744073709551615-${MAX_SEQ}`), { ms: '18446744073709551615', seq: MAX_SEQ });
  });

  test('refuses what is not a full ID', () => {
    for (const value of ['', 'abc', '1-', '-1', '1-2-3', '1.5-0', ' 1-0', '1-0 ', '$', '*', '+', '-', '(1-0', 1, null, undefined, {}]) {
      assert.equal(parseStreamId(value), undefined, `parseStreamId(${String(value)})`);
    }
  });

  test('refuses parts beyond 2^64 - 1', () => {
    assert.equal(parseStreamId('18446744073709551616-0'), undefined);
    assert.equal(parseStreamId('0-18446744073709551616'), undefined);
    assert.equal(parseStreamId('99999999999999999999-0'), undefined);
  });

  test('takes <ms> alone only with allowMsOnly', () => {
    assert.equal(parseStreamId('1692632086370'), undefined);
    assert.deepEqual(parseStreamId('1692632086370', { allowMsOnly: true }), { ms: '1692632086370', seq: '' });
    assert.equal(parseStreamId('18446744073709551616', { allowMsOnly: true }), undefined);
  });
});

describe('isStreamId / assertStreamId', () => {
  test('accepts full IDs only', () => {
    assert.equal(isStreamId('0-0'), true);
    assert.equal(isStreamId('1692632086370-12'), true);
    assert.equal(isStreamId('1692632086370'), false);
    assert.equal(isStreamId(42), false);
  });

  test('assertStreamId throws InvalidStreamIdError naming the value', () => {
    assert.equal(assertStreamId('1-1'), '1-1');
    assert.throws(
      () => assertStreamId('abc'),
      (error: unknown) =>
        error instanceof InvalidStreamIdError && error.code === 'ERR_INVALID_STREAM_ID' && error.value === 'abc' && error.message.includes('`abc`'),
    );
  });
});

describe('idTime', () => {
  test('is the ID milliseconds', () => {
    assert.equal(idTime('1692632086370-5'), 1692632086370);
    assert.equal(idTime('1692632086370'), 1692632086370);
    assert.equal(idTime('0-1'), 0);
  });
});

describe('compareIds', () => {
  test('orders numerically by ms, then seq (not as text)', () => {
    assert.ok(compareIds('9-0', '10-0') < 0);
    assert.ok(compareIds('10-0', '9-0') > 0);
    assert.ok(compareIds('5-9', '5-10') < 0);
    assert.ok(compareIds('5-10', '5-9') > 0);
    assert.equal(compareIds('5-1', '5-1'), 0);
    assert.equal(compareIds('005-1', '5-01'), 0);
    assert.ok(compareIds(`1-${MAX_SEQ}`, '2-0') < 0);
    assert.ok(compareIds('18446744073709551614-0', '18446744073709551615-0') < 0);
  });

  test('throws InvalidStreamIdError for a bad ID on either side', () => {
    assert.throws(() => compareIds('x', '1-0'), (e: unknown) => e instanceof InvalidStreamIdError && e.value === 'x');
    assert.throws(() => compareIds('1-0', 'y'), (e: unknown) => e instanceof InvalidStreamIdError && e.value === 'y');
  });
});

describe('previousId', () => {
  test('is the ID just before', () => {
    assert.equal(previousId('5-3'), '5-2');
    assert.equal(previousId('5-0'), `4-${MAX_SEQ}`);
    assert.equal(previousId('0-0'), '0-0');
    assert.equal(previousId('0-1'), '0-0');
    assert.equal(previousId('18446744073709551615-0'), `18446744073709551614-${MAX_SEQ}`);
    assert.equal(previousId(`1-${MAX_SEQ}`), '1-18446744073709551614');
  });

  test('throws for a bad ID', () => {
    assert.throws(() => previousId('nope'), InvalidStreamIdError);
  });
});

describe('idAtTime', () => {
  test('is the first ID of the millisecond, never negative', () => {
    assert.equal(idAtTime(1692632086370), '1692632086370-0');
    assert.equal(idAtTime(1692632086370.9), '1692632086370-0');
    assert.equal(idAtTime(-5), '0-0');
  });
});

describe('rangeBound', () => {
  test('defaults to - and +', () => {
    assert.equal(rangeBound(undefined, 'start', 'from'), '-');
    assert.equal(rangeBound(undefined, 'end', 'to'), '+');
    assert.equal(rangeBound('-', 'start', 'from'), '-');
    assert.equal(rangeBound('+', 'end', 'to'), '+');
  });

  test('keeps full IDs as they are', () => {
    assert.equal(rangeBound('1692632086370-3', 'start', 'from'), '1692632086370-3');
    assert.equal(rangeBound('1692632086370-3', 'end', 'to'), '1692632086370-3');
  });

  test('turns ms, epoch numbers, Dates and ISO times into the first / last ID of the millisecond', () => {
    assert.equal(rangeBound('1692632086370', 'start', 'from'), '1692632086370-0');
    assert.equal(rangeBound('1692632086370', 'end', 'to'), `1692632086370-${MAX_SEQ}`);
    assert.equal(rangeBound(1692632086370, 'start', 'from'), '1692632086370-0');
    assert.equal(rangeBound(1692632086370, 'end', 'to'), `1692632086370-${MAX_SEQ}`);
    assert.equal(rangeBound(new Date(1692632086370), 'start', 'from'), '1692632086370-0');
    assert.equal(rangeBound('2023-08-21T15:34:46.370Z', 'end', 'to'), `1692632086370-${MAX_SEQ}`);
    assert.equal(rangeBound('2023-08-21', 'start', 'from'), `${Date.UTC(2023, 7, 21)}-0`);
  });

  test('throws InvalidStreamIdError naming the option and the value', () => {
    for (const [value, shown] of [
      ['abc', '`abc`'],
      ['yesterday', '`yesterday`'],
      ['1-2-3', '`1-2-3`'],
      [-1, '-1'],
      [1.5, '1.5'],
      [new Date(Number.NaN), 'an invalid Date'],
      [{}, '{}'],
    ] as const) {
      assert.throws(
        () => rangeBound(value, 'start', 'from'),
        (error: unknown) =>
          error instanceof InvalidStreamIdError &&
          error.code === 'ERR_INVALID_STREAM_ID' &&
          error.message.includes('`from`') &&
          error.message.includes(`got ${shown}`),
        `rangeBound(${String(value)})`,
      );
    }
    assert.throws(() => rangeBound('abc', 'end', 'to'), (e: unknown) => e instanceof InvalidStreamIdError && e.message.includes('`to` to be `+`'));
  });
});
