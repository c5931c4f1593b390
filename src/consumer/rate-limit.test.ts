import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { InvalidOptionError } from '../errors.js';
import { resolveConsumerOptions } from './options.js';
import { rateLimitKey, resolveRateLimit } from './rate-limit.js';
import { WorkerLog } from './worker-log.js';

test('rateLimit: max per a duration string or ms', () => {
  assert.deepEqual(resolveRateLimit({ max: 100, per: '1s' }), { max: 100, perMs: 1000 });
  assert.deepEqual(resolveRateLimit({ max: 1, per: '1m30s' }), { max: 1, perMs: 90_000 });
  assert.deepEqual(resolveRateLimit({ max: 20, per: 500 }), { max: 20, perMs: 500 });
  assert.deepEqual(resolveRateLimit({ max: 20, per: '250' }), { max: 20, perMs: 250 });
  assert.equal(resolveRateLimit(undefined), undefined);
});

test('consumer options carry the checked rate limit; none by default', () => {
  assert.equal(resolveConsumerOptions('events:orders', { group: 'billing' }).rateLimit, undefined);
  assert.deepEqual(resolveConsumerOptions('events:orders', { group: 'billing', rateLimit: { max: 5, per: '2s' } }).rateLimit, { max: 5, perMs: 2000 });
});

test('bad rate limits are refused with InvalidOptionError naming the key and what was expected', () => {
  const bad: Array<[unknown, string, RegExp]> = [
    [{ max: 0, per: '1s' }, 'rateLimit.max', /positive whole number/],
    [{ max: 2.5, per: '1s' }, 'rateLimit.max', /positive whole number/],
    [{ max: '100', per: '1s' }, 'rateLimit.max', /positive whole number/],
    [{ per: '1s' }, 'rateLimit.max', /positive whole number/],
    [{ max: 10, per: 0 }, 'rateLimit.per', /positive duration/],
    [{ max: 10, per: '0s' }, 'rateLimit.per', /positive duration/],
    [{ max: 10, per: 'a second' }, 'rateLimit.per', /positive duration like 500ms, 1s or 1m/],
    [{ max: 10, per: -5 }, 'rateLimit.per', /positive duration/],
    [{ max: 10 }, 'rateLimit.per', /positive duration/],
    [{ max: 10, per: '1s', burst: 5 }, 'rateLimit.burst', /only `max` and `per`/],
    [100, 'rateLimit', /an object like/],
    [null, 'rateLimit', /an object like/],
  ];
  for (const [rateLimit, option, message] of bad) {
    assert.throws(
      () => resolveConsumerOptions('s', { group: 'g', rateLimit } as never),
      (e: unknown) => e instanceof InvalidOptionError && e.code === 'ERR_INVALID_OPTION' && e.option === option && e.message.includes(`\`${option}\``) && message.test(e.message),
      `${JSON.stringify(rateLimit)} → ${option}`,
    );
  }
});

test('the bucket is a helper key of the stream, one per group, in the stream\'s slot', () => {
  assert.equal(rateLimitKey('events:orders', 'billing'), '{events:orders}:ratelimit:billing');
  assert.equal(rateLimitKey('{events:orders}:dlq', 'redrive'), '{events:orders}:dlq:ratelimit:redrive');
});

test('the held-back line is a debug line with the wait and the limit, and costs nothing above debug', () => {
  const lines: Array<Record<string, unknown>> = [];
  const at = (level: string) => new WorkerLog(pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) }).child({ group: 'billing' }));
  at('info').rateLimited(25, { max: 20, perMs: 500 });
  assert.equal(lines.length, 0);
  at('debug').rateLimited(25, { max: 20, perMs: 500 });
  assert.equal(lines.length, 1);
  assert.equal(lines[0]?.level, 20);
  assert.equal(lines[0]?.group, 'billing');
  assert.equal(lines[0]?.waitMs, 25);
  assert.match(String(lines[0]?.msg), /rate limit reached \(20 per 500 ms for the group\): waiting 25 ms/);
});
