import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NotConnectedError, RedisServerError, TimeoutError } from '../errors.js';
import { waitUntilReady, type ReconnectTarget } from './redis-socket.js';

/** A connection whose every attempt fails with the next of `failures` (the last one repeats). */
function failingTarget(failures: Error[]): ReconnectTarget & { attempts: number } {
  let lastError: unknown;
  const target = {
    attempts: 0,
    isReady: () => false,
    isClosed: () => false,
    lastError: () => lastError,
    setLastError: (error: unknown) => void (lastError = error),
    connect: async () => {
      const failure = failures[Math.min(target.attempts, failures.length - 1)] as Error;
      target.attempts++;
      throw failure;
    },
    notConnected: (cause: unknown) => new NotConnectedError(`Cannot reach Redis (${(cause as Error).message})`, { cause }),
    closedError: () => new Error('closed'),
  };
  return target;
}

test('the server’s refusal outlives a later attempt that only timed out at the deadline', async () => {
  const target = failingTarget([new RedisServerError('WRONGPASS', 'WRONGPASS invalid username-password pair'), new TimeoutError('Redis did not answer AUTH in time')]);
  await assert.rejects(waitUntilReady(target, Date.now() + 400), /WRONGPASS/);
  assert.ok(target.attempts >= 2, `attempts: ${target.attempts}`);
});

test('a later failure of another kind replaces the refusal (the server went away meanwhile)', async () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
  const target = failingTarget([new RedisServerError('WRONGPASS', 'WRONGPASS invalid username-password pair'), refused]);
  await assert.rejects(waitUntilReady(target, Date.now() + 400), /ECONNREFUSED/);
});
