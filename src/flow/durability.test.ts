import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DurabilityError, InvalidOptionError, InvalidTimeError } from '../errors.js';
import type { Capabilities } from '../redis/capabilities.js';
import type { RedisConnection } from '../redis/connection.js';
import { assertDurabilitySupported, checkDurabilityReply, durabilityCommand, parseDurability, parseDurabilityFlag, type ResolvedDurability } from './durability.js';

const caps = (waitAof: boolean): Capabilities => ({
  version: waitAof ? '7.2.4' : '7.0.15',
  waitAof,
  xackdel: false,
  ackedTrim: false,
  readGroupClaim: false,
  xaddIdmp: false,
});

function invalidOption(option: string, pattern?: RegExp) {
  return (error: unknown) => {
    assert.ok(error instanceof InvalidOptionError, String(error));
    assert.equal(error.code, 'ERR_INVALID_OPTION');
    assert.equal(error.option, option);
    if (pattern) assert.match(error.message, pattern);
    return true;
  };
}

describe('parseDurability', () => {
  test('none, fsync and replicas, with the default timeout or their own', () => {
    assert.deepEqual(parseDurability(undefined, 5000), { level: 'none' });
    assert.deepEqual(parseDurability('none', 5000), { level: 'none' });
    assert.deepEqual(parseDurability('fsync', 5000), { level: 'fsync', timeoutMs: 5000 });
    assert.deepEqual(parseDurability({ replicas: 2 }, 5000), { level: 'replicas', replicas: 2, timeoutMs: 5000 });
    assert.deepEqual(parseDurability({ replicas: 1, timeout: '250ms' }, 5000), { level: 'replicas', replicas: 1, timeoutMs: 250 });
    assert.deepEqual(parseDurability({ replicas: 1, timeout: 1500 }, 5000), { level: 'replicas', replicas: 1, timeoutMs: 1500 });
  });

  test('anything else is InvalidOptionError naming the option and what it takes', () => {
    const expected = /Expected `durability` to be `none`, `fsync` or \{ replicas: N \}/;
    for (const value of ['always', 'FSYNC', null, 5, {}, [], true]) {
      assert.throws(() => parseDurability(value, 5000), invalidOption('durability', expected), String(value));
    }
    for (const replicas of [0, -1, 1.5, '1', NaN, undefined]) {
      assert.throws(() => parseDurability({ replicas }, 5000), invalidOption('durability.replicas', /a whole number ≥ 1/), String(replicas));
    }
    assert.throws(() => parseDurability('always', 5000, 'publish.durability'), invalidOption('publish.durability'), 'the option name is the caller’s');
    assert.throws(() => parseDurability({ replicas: 0 }, 5000, 'publish.durability'), invalidOption('publish.durability.replicas'));
  });

  test('a timeout of 0 is refused: WAIT 0 would block the publisher connection forever', () => {
    assert.throws(() => parseDurability({ replicas: 1, timeout: 0 }, 5000), invalidOption('durability.timeout', /at least 1 ms/));
    assert.throws(() => parseDurability({ replicas: 1, timeout: '0s' }, 5000), invalidOption('durability.timeout'));
    assert.throws(
      () => parseDurability({ replicas: 1, timeout: 'soon' }, 5000),
      (error: unknown) => error instanceof InvalidTimeError && /`durability.timeout`/.test(error.message),
    );
  });
});

describe('parseDurabilityFlag', () => {
  test('none, fsync, replicas:N', () => {
    assert.deepEqual(parseDurabilityFlag('none', 4000), { level: 'none' });
    assert.deepEqual(parseDurabilityFlag('fsync', 4000), { level: 'fsync', timeoutMs: 4000 });
    assert.deepEqual(parseDurabilityFlag('replicas:2', 4000), { level: 'replicas', replicas: 2, timeoutMs: 4000 });
  });

  test('other text is refused under the flag’s name', () => {
    assert.throws(() => parseDurabilityFlag('replicas:0', 4000), invalidOption('--durable.replicas'));
    for (const text of ['replicas', 'replicas:', 'replicas:x', 'replicas:-1', 'replicas: 2', 'always', '']) {
      assert.throws(() => parseDurabilityFlag(text, 4000), invalidOption('--durable'), text);
    }
  });
});

describe('durabilityCommand', () => {
  const fsync: ResolvedDurability = { level: 'fsync', timeoutMs: 300 };
  test('WAIT for replicas, WAITAOF for fsync where the server has it, nothing otherwise', () => {
    assert.equal(durabilityCommand({ level: 'none' }, caps(true)), undefined);
    assert.deepEqual(durabilityCommand({ level: 'replicas', replicas: 2, timeoutMs: 150 }, caps(false)), ['WAIT', '2', '150']);
    assert.deepEqual(durabilityCommand(fsync, caps(true)), ['WAITAOF', '1', '0', '300']);
    // 7.0 with appendfsync always: the XADD's reply already means fsynced.
    assert.equal(durabilityCommand(fsync, caps(false)), undefined);
  });
});

describe('checkDurabilityReply', () => {
  const replicas: ResolvedDurability = { level: 'replicas', replicas: 2, timeoutMs: 150 };
  const fsync: ResolvedDurability = { level: 'fsync', timeoutMs: 300 };

  test('enough acknowledgements pass', () => {
    checkDurabilityReply(replicas, 2, '1-0');
    checkDurabilityReply(replicas, 3, '1-0');
    checkDurabilityReply(fsync, [1, 0], '1-0');
    checkDurabilityReply(fsync, undefined, '1-0'); // no follow-up on 7.0
    checkDurabilityReply({ level: 'none' }, undefined);
  });

  test('too few: ERR_DURABILITY_TIMEOUT, saying the event is stored, with its ID', () => {
    assert.throws(
      () => checkDurabilityReply(replicas, 1, '1700000000000-0'),
      (error: unknown) => {
        assert.ok(error instanceof DurabilityError);
        assert.equal(error.code, 'ERR_DURABILITY_TIMEOUT');
        assert.equal(error.eventId, '1700000000000-0');
        assert.equal(error.message, 'Only 1 of 2 replicas acknowledged within 150 ms; the event 1700000000000-0 is stored on the primary but not yet replicated');
        return true;
      },
    );
    assert.throws(
      () => checkDurabilityReply(fsync, [0, 0], '5-1'),
      (error: unknown) => error instanceof DurabilityError && error.code === 'ERR_DURABILITY_TIMEOUT' && /event 5-1 is stored but not yet on disk/.test(error.message),
    );
  });
});

describe('assertDurabilitySupported', () => {
  /** A connection that answers CONFIG GET from `config` and records what it was sent. */
  function fakeConn(config: Record<string, string>) {
    const sent: string[][] = [];
    const conn = {
      async command(args: string[]) {
        sent.push(args);
        const name = args[2] as string;
        return [name, config[name]];
      },
    } as unknown as RedisConnection;
    return { conn, sent };
  }

  test('only fsync needs a check', async () => {
    const { conn, sent } = fakeConn({});
    await assertDurabilitySupported(conn, caps(false), { level: 'none' });
    await assertDurabilitySupported(conn, caps(false), { level: 'replicas', replicas: 1, timeoutMs: 10 });
    assert.deepEqual(sent, []);
  });

  test('Redis 7.0: accepted only with appendonly yes and appendfsync always', async () => {
    const fsync: ResolvedDurability = { level: 'fsync', timeoutMs: 100 };
    await assertDurabilitySupported(fakeConn({ appendonly: 'yes', appendfsync: 'always' }).conn, caps(false), fsync);
    for (const config of [
      { appendonly: 'yes', appendfsync: 'everysec' },
      { appendonly: 'no', appendfsync: 'always' },
      { appendonly: 'no', appendfsync: 'everysec' },
    ]) {
      await assert.rejects(assertDurabilitySupported(fakeConn(config).conn, caps(false), fsync), (error: unknown) => {
        assert.ok(error instanceof DurabilityError);
        assert.equal(error.code, 'ERR_DURABILITY_UNSUPPORTED');
        assert.match(error.message, new RegExp(`Redis 7\\.0\\.15.*appendonly ${config.appendonly} and appendfsync ${config.appendfsync}.*CONFIG SET appendfsync always`));
        return true;
      });
    }
  });

  test('with WAITAOF: accepted with the AOF on (any appendfsync), refused before writing without it', async () => {
    const fsync: ResolvedDurability = { level: 'fsync', timeoutMs: 100 };
    await assertDurabilitySupported(fakeConn({ appendonly: 'yes', appendfsync: 'everysec' }).conn, caps(true), fsync);
    await assert.rejects(
      assertDurabilitySupported(fakeConn({ appendonly: 'no', appendfsync: 'everysec' }).conn, caps(true), fsync),
      (error: unknown) => error instanceof DurabilityError && error.code === 'ERR_DURABILITY_UNSUPPORTED' && /appendonly no/.test(error.message),
    );
  });
});
