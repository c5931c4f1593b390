import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidInputError } from '../errors.js';
import { fieldsFromPairs } from './commands/publish.js';
import { duration, rangeBound, rateLimit, readFrom, retentionPolicy, since, streamKey, wholeNumber } from './options.js';

const usage = (message: RegExp) => (error: unknown) => error instanceof InvalidInputError && message.test(error.message);

describe('option parsers', () => {
  test('wholeNumber takes decimal digits only, from its minimum', () => {
    const count = wholeNumber('--count', 1);
    assert.equal(count('10'), 10);
    for (const bad of ['abc', '0', '-1', '1.5', '1e3', '0x10', '']) {
      assert.throws(() => count(bad), usage(new RegExp(`^Expected \`--count\` to be a whole number ≥ 1, got \`${bad}\`$`)));
    }
    assert.equal(wholeNumber('--max-len', 0)('0'), 0);
  });

  test('duration keeps the text and checks it, with a minimum', () => {
    assert.equal(duration('--max-age')('7d'), '7d');
    assert.throws(() => duration('--max-age')('a week'), usage(/^Expected `--max-age` to be a duration/));
    assert.throws(() => duration('--timeout', 1)('0'), usage(/`--timeout` to be at least 1 ms, got `0`/));
  });

  test('since: how long ago, as epoch ms read from the clock when parsed; a unit is required', () => {
    const before = Date.now();
    const at = since('--since')('1h30m');
    const after = Date.now();
    assert.ok(at >= before - 5_400_000 && at <= after - 5_400_000, `${at} is 90 minutes before the parse`);
    for (const bad of ['15', '1.5', 'an hour', '-1h', '']) {
      assert.throws(() => since('--since')(bad), usage(/^Expected `--since` to be a duration/), bad);
    }
  });

  test('rateLimit: <max>/<duration>', () => {
    const parse = rateLimit('--rate-limit');
    assert.deepEqual(parse('100/1s'), { max: 100, per: '1s' });
    assert.deepEqual(parse(' 5 / 500ms '), { max: 5, per: '500ms' });
    assert.deepEqual(parse('20/250'), { max: 20, per: '250' });
    for (const bad of ['100', '0/1s', '-1/1s', '1.5/1s', '/1s', '100/', 'many/1s']) {
      assert.throws(() => parse(bad), usage(new RegExp(`^Expected \`--rate-limit\` to be a rate like 100/1s or 5/500ms .*got \`${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\`$`)));
    }
    assert.throws(() => parse('100/soon'), usage(/`--rate-limit`/));
    assert.throws(() => parse('100/0ms'), usage(/`--rate-limit` to have a period longer than 0 ms, got `100\/0ms`/));
  });

  test('readFrom: $, 0, a stream ID or an ISO time', () => {
    for (const ok of ['$', '0', '1700000000000-0', '2026-11-25', '2026-11-25T10:00:00Z']) assert.equal(readFrom(ok), ok);
    for (const bad of ['yesterday', '-', '1700000000000', '2026-13-45']) {
      assert.throws(() => readFrom(bad), usage(/^Expected `--from` to be `\$`, `0`, a stream ID/));
    }
  });

  test('rangeBound: its open end, IDs, epoch ms or ISO times', () => {
    assert.equal(rangeBound('--from')('-'), '-');
    assert.equal(rangeBound('--to')('+'), '+');
    assert.equal(rangeBound('--from')('1700000000000'), '1700000000000');
    assert.equal(rangeBound('--to')('2026-11-25T10:00:00Z'), '2026-11-25T10:00:00Z');
    assert.throws(() => rangeBound('--from')('+'), usage(/^Expected `--from` to be `-`/));
    assert.throws(() => rangeBound('--to')('tomorrow'), usage(/^Expected `--to` to be `\+`.*got `tomorrow`$/));
  });

  test('streamKey also accepts helper streams with a hash tag', () => {
    assert.equal(streamKey('{events:orders}:dlq'), '{events:orders}:dlq');
    assert.throws(() => streamKey('events orders'), usage(/^Invalid stream name `events orders`/));
  });

  test('retentionPolicy: required for trim, --exact needs a limit', () => {
    assert.equal(retentionPolicy({}, false), undefined);
    assert.deepEqual(retentionPolicy({ maxLen: 5, exact: true }, false), { maxLen: 5, exact: true });
    assert.deepEqual(retentionPolicy({ maxAge: '7d' }, true), { maxAge: '7d', exact: false });
    assert.throws(() => retentionPolicy({}, true), usage(/`--max-len N` or `--max-age DURATION`/));
    assert.throws(() => retentionPolicy({ exact: true }, false), usage(/^Expected `--exact` to come with/));
  });

  test('field=value pairs split at the first `=`; each field once', () => {
    assert.deepEqual({ ...fieldsFromPairs(['order_id=12345', 'note=a=b', 'empty=']) }, { order_id: '12345', note: 'a=b', empty: '' });
    assert.equal(fieldsFromPairs(['__proto__=x'])['__proto__'], 'x');
    assert.throws(() => fieldsFromPairs(['order_id']), usage(/^Expected a field=value pair like order_id=12345, got `order_id`$/));
    assert.throws(() => fieldsFromPairs(['=1']), usage(/got `=1`/));
    assert.throws(() => fieldsFromPairs(['a=1', 'a=2']), usage(/`a` twice/));
  });
});
