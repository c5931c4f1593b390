import { ClientOfflineError, ConnectionTimeoutError, ErrorReply, SocketClosedUnexpectedlyError, TimeoutError as RedisTimeoutError } from '@redis/client';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NotConnectedError, RedisServerError, SluiceError, TimeoutError } from '../errors.js';
import { isRetryable, redisErrorCode, toSluiceError } from './redis-errors.js';

function socketError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 127.0.0.1:6379`), { code });
}

describe('redisErrorCode', () => {
  test('is the first word of an error reply', () => {
    assert.equal(redisErrorCode(new ErrorReply('WRONGTYPE Operation against a key holding the wrong kind of value')), 'WRONGTYPE');
    assert.equal(redisErrorCode(new ErrorReply('NOGROUP No such key')), 'NOGROUP');
    assert.equal(redisErrorCode(new ErrorReply('LOADING')), 'LOADING');
  });

  test('is undefined for anything but a reply', () => {
    assert.equal(redisErrorCode(new Error('WRONGTYPE x')), undefined);
    assert.equal(redisErrorCode('WRONGTYPE'), undefined);
  });
});

describe('isRetryable', () => {
  test('connection trouble and transient server states may succeed later', () => {
    for (const error of [
      new ClientOfflineError(),
      new SocketClosedUnexpectedlyError(),
      new ConnectionTimeoutError(),
      new NotConnectedError('down'),
      socketError('ECONNREFUSED'),
      socketError('ECONNRESET'),
      socketError('EPIPE'),
      new ErrorReply('LOADING Redis is loading the dataset in memory'),
      new ErrorReply('BUSY Redis is busy running a script'),
      new ErrorReply('TRYAGAIN Multiple keys request during rehashing of slot'),
      new ErrorReply('MASTERDOWN Link with MASTER is down'),
      new ErrorReply('CLUSTERDOWN The cluster is down'),
    ]) {
      assert.equal(isRetryable(error), true, `${error.constructor.name}: ${error.message}`);
    }
  });

  test('a refusal is final', () => {
    for (const error of [
      new ErrorReply('ERR syntax error'),
      new ErrorReply('WRONGTYPE Operation against a key holding the wrong kind of value'),
      new ErrorReply('OOM command not allowed when used memory > \'maxmemory\''),
      new ErrorReply('NOGROUP No such key'),
      new RedisTimeoutError('timeout'),
      new TimeoutError('deadline'),
      new Error('boom'),
      socketError('ENOENT'),
      null,
      undefined,
    ]) {
      assert.equal(isRetryable(error), false, String(error));
    }
  });
});

describe('toSluiceError', () => {
  test('passes Sluice errors through unchanged', () => {
    const error = new TimeoutError('late');
    assert.equal(toSluiceError(error, 'XADD'), error);
  });

  test('maps a reply to RedisServerError with its first word, OOM with its own code and a hint', () => {
    const wrongType = toSluiceError(new ErrorReply('WRONGTYPE Operation against a key holding the wrong kind of value'), 'XADD');
    assert.ok(wrongType instanceof RedisServerError);
    assert.equal(wrongType.code, 'ERR_REDIS');
    assert.equal(wrongType.redisCode, 'WRONGTYPE');
    assert.match(wrongType.message, /to XADD: WRONGTYPE/);
    assert.ok(wrongType.cause instanceof ErrorReply);

    const oom = toSluiceError(new ErrorReply("OOM command not allowed when used memory > 'maxmemory'."), 'XADD');
    assert.ok(oom instanceof RedisServerError);
    assert.equal(oom.code, 'ERR_REDIS_OOM');
    assert.equal(oom.redisCode, 'OOM');
    assert.match(oom.message, /raise maxmemory/);
  });

  test('maps connection errors to NotConnectedError and client timeouts to TimeoutError', () => {
    const offline = toSluiceError(new ClientOfflineError(), 'XADD');
    assert.ok(offline instanceof NotConnectedError);
    assert.equal(offline.code, 'ERR_NOT_CONNECTED');
    assert.ok(offline.cause instanceof ClientOfflineError);
    assert.ok(toSluiceError(socketError('ECONNREFUSED')) instanceof NotConnectedError);

    const timeout = toSluiceError(new RedisTimeoutError('Command timeout'), 'XREAD');
    assert.ok(timeout instanceof TimeoutError);
    assert.equal(timeout.code, 'ERR_TIMEOUT');
  });

  test('anything else is ERR_UNEXPECTED with the cause kept', () => {
    const cause = new RangeError('weird');
    const error = toSluiceError(cause, 'XADD');
    assert.ok(error instanceof SluiceError);
    assert.equal(error.code, 'ERR_UNEXPECTED');
    assert.equal(error.cause, cause);
    assert.match(error.message, /to XADD: weird/);
    assert.equal(toSluiceError('text').code, 'ERR_UNEXPECTED');
  });
});
