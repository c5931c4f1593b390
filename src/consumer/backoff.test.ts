import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidOptionError } from '../errors.js';
import { backoffDelay, checkBackoff } from './backoff.js';

test('backoff grows by the factor from the initial delay and stops at max', () => {
  const backoff = checkBackoff({ initial: 100, max: 1000, factor: 2, jitter: 0 });
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(backoff, n)), [100, 200, 400, 800, 1000, 1000]);
});

test('jitter spreads the delay within ±jitter and never past max', () => {
  const backoff = checkBackoff({ initial: '1s', max: '1s', jitter: 0.5 });
  assert.equal(backoffDelay(backoff, 1, () => 0), 500);
  assert.equal(backoffDelay(backoff, 1, () => 1), 1000);
  const b2 = checkBackoff({ initial: 100, max: 10_000, jitter: 0.2 });
  assert.equal(backoffDelay(b2, 1, () => 1), 120);
  assert.equal(backoffDelay(b2, 1, () => 0), 80);
});

test('a number is the initial delay', () => {
  assert.equal(checkBackoff(250).initialMs, 250);
});

test('bad backoff options are refused with the option named', () => {
  assert.throws(() => checkBackoff({ initial: 500, max: 100 }), (e: unknown) => e instanceof InvalidOptionError && /backoff\.max/.test(e.message));
  assert.throws(() => checkBackoff({ factor: 0.5 }), /backoff\.factor/);
  assert.throws(() => checkBackoff({ jitter: 2 }), /backoff\.jitter/);
  assert.throws(() => checkBackoff({ initial: 'soon' }), /backoff\.initial/);
});
