import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidOptionError, InvalidTimeError } from '../errors.js';
import { maxLenArgs, minIdArgs, parseRetention, trimAfterBatchArgs, trimCommands, xaddHead, type RetentionPolicy } from './xadd-args.js';

const NOW = 1_700_000_000_000;

describe('parseRetention', () => {
  test('no policy is no retention', () => {
    assert.equal(parseRetention(undefined), undefined);
  });

  test('reads maxLen, maxAge (durations) and exact', () => {
    assert.deepEqual(parseRetention({ maxLen: 10_000 }), { exact: false, maxLen: 10_000 });
    assert.deepEqual(parseRetention({ maxAge: '7d' }), { exact: false, maxAgeMs: 604_800_000 });
    assert.deepEqual(parseRetention({ maxAge: 1500, maxLen: 0, exact: true }), { exact: true, maxLen: 0, maxAgeMs: 1500 });
  });

  test('refuses bad values with the option path in the error', () => {
    const bad = (policy: unknown, option: string) =>
      assert.throws(
        () => parseRetention(policy as RetentionPolicy),
        (error: unknown) => error instanceof InvalidOptionError && error.code === 'ERR_INVALID_OPTION' && error.option === option,
        JSON.stringify(policy),
      );
    bad({}, 'retention');
    bad({ exact: true }, 'retention');
    bad(null, 'retention');
    bad('10000', 'retention');
    bad({ maxLen: -1 }, 'retention.maxLen');
    bad({ maxLen: 1.5 }, 'retention.maxLen');
    bad({ maxLen: '100' }, 'retention.maxLen');
    bad({ maxLen: 10, exact: 'yes' }, 'retention.exact');
  });

  test('a bad maxAge is an InvalidTimeError naming retention.maxAge and the value', () => {
    assert.throws(
      () => parseRetention({ maxAge: '5 parsecs' }),
      (error: unknown) =>
        error instanceof InvalidTimeError && error.code === 'ERR_INVALID_TIME' && /`retention\.maxAge`/.test(error.message) && /got `5 parsecs`/.test(error.message),
    );
    assert.throws(() => parseRetention({ maxAge: 'soon' }, 'policy'), /`policy\.maxAge`/);
  });
});

describe('XADD / XTRIM arguments', () => {
  test('maxLen is approximate unless exact', () => {
    assert.deepEqual(maxLenArgs({ exact: false, maxLen: 100 }), ['MAXLEN', '~', '100']);
    assert.deepEqual(maxLenArgs({ exact: true, maxLen: 100 }), ['MAXLEN', '=', '100']);
    assert.deepEqual(maxLenArgs({ exact: false, maxAgeMs: 5 }), []);
  });

  test('maxAge becomes MINID at now - maxAge, never below 0', () => {
    assert.deepEqual(minIdArgs({ exact: false, maxAgeMs: 60_000 }, NOW), ['MINID', '~', `${NOW - 60_000}-0`]);
    assert.deepEqual(minIdArgs({ exact: true, maxAgeMs: 60_000 }, NOW), ['MINID', '=', `${NOW - 60_000}-0`]);
    assert.deepEqual(minIdArgs({ exact: true, maxAgeMs: NOW + 1 }, NOW), ['MINID', '=', '0-0']);
    assert.deepEqual(minIdArgs({ exact: false, maxLen: 5 }, NOW), []);
  });

  test('the XADD head carries MAXLEN only (maxAge is trimmed per batch)', () => {
    assert.deepEqual(xaddHead('events:orders', undefined), ['XADD', 'events:orders', '*']);
    assert.deepEqual(xaddHead('s', { exact: false, maxLen: 10_000 }), ['XADD', 's', 'MAXLEN', '~', '10000', '*']);
    assert.deepEqual(xaddHead('s', { exact: true, maxLen: 3, maxAgeMs: 1000 }), ['XADD', 's', 'MAXLEN', '=', '3', '*']);
    assert.deepEqual(xaddHead('s', { exact: false, maxAgeMs: 1000 }), ['XADD', 's', '*']);
  });

  test('a batch trim is sent only for maxAge', () => {
    assert.equal(trimAfterBatchArgs('s', undefined, NOW), undefined);
    assert.equal(trimAfterBatchArgs('s', { exact: false, maxLen: 5 }, NOW), undefined);
    assert.deepEqual(trimAfterBatchArgs('s', { exact: false, maxAgeMs: 1000 }, NOW), ['XTRIM', 's', 'MINID', '~', `${NOW - 1000}-0`]);
  });

  test('trimCommands applies every strategy of the policy', () => {
    assert.deepEqual(trimCommands('s', { exact: true, maxLen: 5 }, NOW), [['XTRIM', 's', 'MAXLEN', '=', '5']]);
    assert.deepEqual(trimCommands('s', { exact: false, maxLen: 5, maxAgeMs: 10 }, NOW), [
      ['XTRIM', 's', 'MINID', '~', `${NOW - 10}-0`],
      ['XTRIM', 's', 'MAXLEN', '~', '5'],
    ]);
  });
});
