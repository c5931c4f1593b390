import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidTimeError } from '../errors.js';
import { parseAgo, parseDuration, parseTime } from './time.js';

describe('parseDuration', () => {
  test('reads numbers as milliseconds', () => {
    assert.equal(parseDuration(0), 0);
    assert.equal(parseDuration(1500), 1500);
    assert.equal(parseDuration(2.5), 2.5);
    assert.equal(parseDuration('250'), 250);
  });

  test('reads units and combinations', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('15m'), 900_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('7d'), 604_800_000);
    assert.equal(parseDuration('2w'), 1_209_600_000);
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration(' 10s '), 10_000);
  });

  test('throws InvalidTimeError naming the option and the value', () => {
    for (const value of ['5 parsecs', '', 'ten seconds', '10 s', '10sec', '-5s', '5y', 'ms', '1h 30m', -1, Number.NaN, Number.POSITIVE_INFINITY, null, undefined, {}, true]) {
      assert.throws(
        () => parseDuration(value, 'retention.maxAge'),
        (error: unknown) =>
          error instanceof InvalidTimeError &&
          error.code === 'ERR_INVALID_TIME' &&
          Object.is(error.value, value) &&
          error.message.includes('`retention.maxAge`'),
        `parseDuration(${String(value)})`,
      );
    }
    assert.throws(() => parseDuration('5 parsecs', 'retention.maxAge'), /got `5 parsecs`/);
    assert.throws(() => parseDuration(Number.NaN, 'retention.maxAge'), /got NaN$/);
    assert.throws(() => parseDuration(-1, 'retention.maxAge'), /got -1$/);
  });
});

describe('parseTime', () => {
  test('reads Dates, epoch ms and ISO-8601 times', () => {
    assert.equal(parseTime(new Date(1692632086370)), 1692632086370);
    assert.equal(parseTime(1692632086370), 1692632086370);
    assert.equal(parseTime(0), 0);
    assert.equal(parseTime('2023-08-21T15:34:46.370Z'), 1692632086370);
    assert.equal(parseTime('2023-08-21T15:34:46Z'), 1692632086000);
    assert.equal(parseTime('2023-08-21T17:34:46+02:00'), 1692632086000);
    assert.equal(parseTime('2023-08-21'), Date.UTC(2023, 7, 21));
  });

  test('refuses loose formats Date.parse would take, and bad values', () => {
    for (const value of ['yesterday', '1', 'May 5', '2023-13-45', 'Mon, 21 Aug 2023 15:34:46 GMT', '', -1, 1.5, Number.NaN, new Date(Number.NaN), new Date(-1), null, undefined, {}]) {
      assert.throws(
        () => parseTime(value, 'from'),
        (error: unknown) => error instanceof InvalidTimeError && error.code === 'ERR_INVALID_TIME' && error.message.includes('`from`'),
        `parseTime(${String(value)})`,
      );
    }
    assert.throws(() => parseTime('yesterday', 'from'), /got `yesterday`/);
  });
});

describe('parseAgo', () => {
  test('is the epoch ms that long before now', () => {
    const before = Date.now();
    const at = parseAgo('1h30m');
    const after = Date.now();
    assert.ok(at >= before - 5_400_000 && at <= after - 5_400_000, `${at} is 90 minutes before the call`);
  });

  test('needs a duration with a unit: a bare number is refused, naming the option', () => {
    for (const bad of ['15', ' 2.5 ', 'an hour', '-1h', '', 15, null]) {
      assert.throws(
        () => parseAgo(bad, 'since'),
        (error: unknown) => error instanceof InvalidTimeError && /^Expected `since` to be a duration with a unit, like 30s, 15m, 1h30m or 7d, got /.test(error.message),
        String(bad),
      );
    }
  });
});
