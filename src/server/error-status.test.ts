import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BackpressureError, ClosedError, InvalidFieldError, InvalidStreamNameError, NotConnectedError, RedisServerError, TimeoutError } from '../errors.js';
import { BearerAuth } from './auth.js';
import { logLevelOf, toHttpError } from './error-status.js';
import { HttpError } from './http-error.js';

test('library errors map to statuses, keeping their codes', () => {
  const backpressure = toHttpError(new BackpressureError(250, 'group billing lags 11 entries behind'));
  assert.equal(backpressure.status, 429);
  assert.equal(backpressure.code, 'ERR_BACKPRESSURE');
  assert.equal(backpressure.headers['Retry-After'], '1');
  assert.equal(toHttpError(new BackpressureError(2001, 'x')).headers['Retry-After'], '3');

  const name = toHttpError(new InvalidStreamNameError('a b', 'no spaces'));
  assert.deepEqual([name.status, name.code], [400, 'ERR_INVALID_STREAM_NAME']);
  assert.deepEqual(toHttpError(new InvalidFieldError('address', 'nested')).details, { field: 'address' });

  for (const error of [new NotConnectedError('Cannot reach Redis at redis://10.0.0.5:6379'), new TimeoutError('late')]) {
    const answer = toHttpError(error);
    assert.equal(answer.status, 503);
    assert.equal(answer.headers['Retry-After'], '1');
    assert.doesNotMatch(answer.message, /10\.0\.0\.5/, 'no internal address to clients');
  }
  assert.equal(toHttpError(new ClosedError('The publisher')).status, 503);
  const oom = toHttpError(new RedisServerError('OOM', "OOM command not allowed when used memory > 'maxmemory'"));
  assert.deepEqual([oom.status, oom.code], [507, 'ERR_REDIS_OOM']);
  assert.equal(toHttpError(new RedisServerError('WRONGTYPE', 'WRONGTYPE Operation against a key')).status, 409);
});

test('anything else is a 500 with a generic message', () => {
  const answer = toHttpError(new Error('secret internals at /srv/app.js:12'));
  assert.deepEqual(answer.toJSON(), { error: { code: 'ERR_INTERNAL', message: 'Internal server error' } });
  assert.equal(logLevelOf(500), 'error');
  assert.equal(logLevelOf(503), 'warn');
  assert.equal(logLevelOf(400), 'debug');
});

test('BearerAuth: 401 with WWW-Authenticate when missing or wrong', () => {
  const auth = new BearerAuth('s3cret-token');
  auth.check('Bearer s3cret-token');
  auth.check('bearer s3cret-token');
  for (const [header, challenge] of [
    [undefined, 'Bearer realm="sluice"'],
    ['Basic dXNlcjpwYXNz', 'Bearer realm="sluice", error="invalid_request"'],
    ['Bearer s3cret-tokem', 'Bearer realm="sluice", error="invalid_token"'],
    ['Bearer s3cret-token-and-more', 'Bearer realm="sluice", error="invalid_token"'],
  ] as const) {
    assert.throws(
      () => auth.check(header),
      (error: unknown) => error instanceof HttpError && error.status === 401 && error.code === 'ERR_UNAUTHORIZED' && error.headers['WWW-Authenticate'] === challenge,
      String(header),
    );
  }
  assert.throws(() => new BearerAuth('has space', '--token'), /`--token`/);
  assert.throws(() => new BearerAuth('', '--token'), /`--token`/);
});
