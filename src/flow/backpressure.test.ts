import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BackpressureError, InvalidOptionError, InvalidTimeError } from '../errors.js';
import type { RedisConnection } from '../redis/connection.js';
import { BackpressureGate, type BackpressureOptions } from './backpressure.js';

const noConn = {} as RedisConnection;

function gate(options: BackpressureOptions, conn = noConn): BackpressureGate {
  return new BackpressureGate(conn, 'events:orders', options, { defaultTimeoutMs: 10_000 });
}

function invalidOption(option: string, pattern?: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof InvalidOptionError, String(error));
    assert.equal(error.option, option);
    if (pattern) assert.match(error.message, pattern);
    return true;
  };
}

describe('BackpressureGate options', () => {
  test('defaults: block, the publish timeout, a 250 ms reading, every group', () => {
    const g = gate({ maxLag: 100 });
    assert.equal(g.maxLag, 100);
    assert.equal(g.maxLen, undefined);
    assert.equal(g.groups, undefined);
    assert.equal(g.onLimit, 'block');
    assert.equal(g.timeoutMs, 10_000);
    assert.equal(g.cacheMs, 250);
  });

  test('every option, durations as text or ms', () => {
    const g = gate({ maxLag: 0, maxLen: 5000, groups: ['billing'], onLimit: 'reject', timeout: '2s', cacheFor: '50ms' });
    assert.deepEqual([g.maxLag, g.maxLen, g.groups, g.onLimit, g.timeoutMs, g.cacheMs], [0, 5000, ['billing'], 'reject', 2000, 50]);
    assert.equal(gate({ maxLen: 1, timeout: 300, cacheFor: 0 }).timeoutMs, 300);
  });

  test('refused when the object is built, naming the option and what it takes', () => {
    assert.throws(() => gate({}), invalidOption('backpressure', /limits with `maxLag` and\/or `maxLen`/));
    assert.throws(() => gate({ onLimit: 'reject' }), invalidOption('backpressure'));
    for (const maxLag of [-1, 1.5, '5', NaN, Infinity]) {
      assert.throws(() => gate({ maxLag: maxLag as number }), invalidOption('backpressure.maxLag', /a whole number of entries ≥ 0/), String(maxLag));
    }
    for (const maxLen of [0, -1, 2.5, '10']) {
      assert.throws(() => gate({ maxLen: maxLen as number }), invalidOption('backpressure.maxLen', /a whole number of entries ≥ 1/), String(maxLen));
    }
    for (const groups of ['billing', [1], [null], {}]) {
      assert.throws(() => gate({ maxLag: 1, groups: groups as string[] }), invalidOption('backpressure.groups', /an array of group names/), JSON.stringify(groups));
    }
    assert.throws(() => gate({ maxLag: 1, onLimit: 'drop' as 'block' }), invalidOption('backpressure.onLimit', /`block` or `reject`/));
    assert.throws(() => gate({ maxLag: 1, timeout: 'soon' }), (error: unknown) => error instanceof InvalidTimeError && /`backpressure.timeout`/.test(error.message));
    assert.throws(() => gate({ maxLag: 1, cacheFor: -5 }), (error: unknown) => error instanceof InvalidTimeError && /`backpressure.cacheFor`/.test(error.message));
  });
});

describe('BackpressureGate admission', () => {
  /** A connection whose XLEN answers `length.value` and counts how often it was asked. */
  function lengthConn() {
    const state = { value: 0, asked: 0 };
    const conn = {
      async command(args: string[]) {
        assert.equal(args[0], 'XLEN');
        state.asked++;
        return state.value;
      },
    } as unknown as RedisConnection;
    return { conn, state };
  }

  test('a cached reading admits no more publishes than the limit leaves room for', async () => {
    const { conn, state } = lengthConn();
    const g = gate({ maxLen: 3, onLimit: 'reject', cacheFor: '1h' }, conn);
    await g.admit(); // the first reading: 0 entries, room for 3
    assert.equal(g.admit(), undefined, 'from the cache, no I/O');
    assert.equal(g.admit(), undefined);
    assert.equal(state.asked, 1);
    // The three are not in XLEN yet (still being sent): they count all the same.
    await assert.rejects(g.admit() as Promise<void>, (error: unknown) => {
      assert.ok(error instanceof BackpressureError);
      assert.equal(error.message, 'events:orders holds 0 entries, and 3 more being published (limit 3): publishing is refused until consumers catch up');
      return true;
    });
    assert.equal(state.asked, 2, 'measured again before refusing');

    // Stored now: they settle, and XLEN shows them.
    state.value = 3;
    g.settled();
    g.settled();
    g.settled();
    // The refusal is cached too (retry after retryAfterMs): a fresh gate sees the same.
    const fresh = gate({ maxLen: 3, onLimit: 'reject', cacheFor: 0 }, conn);
    await assert.rejects(fresh.admit() as Promise<void>, /holds 3 entries \(limit 3\)/);
    state.value = 2;
    await fresh.admit();
    await assert.rejects(fresh.admit() as Promise<void>, /holds 2 entries, and 1 more being published \(limit 3\)/);
  });

  test('concurrent publishes share one reading and take its room one each', async () => {
    const { conn, state } = lengthConn();
    const g = gate({ maxLen: 5, onLimit: 'reject', cacheFor: '1h' }, conn);
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => g.admit() ?? Promise.resolve()));
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected', 'rejected'],
    );
    assert.ok(state.asked <= 2, `XLEN sent ${state.asked} times`);
  });
});
