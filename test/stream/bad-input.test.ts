import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  connect,
  InvalidOptionError,
  InvalidStreamIdError,
  InvalidStreamNameError,
  InvalidTimeError,
  type ReadOptions,
  type SluiceError,
} from '../../src/index.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useSluice } from '../helpers/sluice-fixture.js';
import { clientList, totalCalls } from '../helpers/streams.js';

const redis = useSluice();

type ErrorClass = new (...args: never[]) => SluiceError;

/** Checks class, code and that the message shows the bad value. */
function matches(expected: ErrorClass, code: string, shown: string) {
  return (error: unknown) => {
    assert.ok(error instanceof expected, `expected ${expected.name}, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.ok(error.message.includes(shown), `message names ${shown}: ${error.message}`);
    return true;
  };
}

/** Runs `call` and asserts the server received no command (and no new connection) meanwhile. */
async function withoutIo(call: () => Promise<void>): Promise<void> {
  const clients = (await clientList(redis.server)).length;
  const calls = await totalCalls(redis.server);
  await call();
  assert.equal(await totalCalls(redis.server), calls, 'no command reached Redis');
  assert.equal((await clientList(redis.server)).length, clients, 'no connection was opened');
}

async function iterate(options: ReadOptions, name = `${uniquePrefix('bad')}orders`): Promise<void> {
  for await (const _event of redis.sluice.stream(name).read(options)) {
    // Draining: a bad option must fail before the first event.
  }
}

describe('bad input fails with typed errors naming the value, before any I/O', () => {
  test('bad stream names', async () => {
    await withoutIo(async () => {
      assert.throws(() => redis.sluice.stream(''), matches(InvalidStreamNameError, 'ERR_INVALID_STREAM_NAME', '``'));
      assert.throws(() => redis.sluice.stream('events orders'), matches(InvalidStreamNameError, 'ERR_INVALID_STREAM_NAME', '`events orders`'));
      assert.throws(() => redis.sluice.stream('events:{orders}'), matches(InvalidStreamNameError, 'ERR_INVALID_STREAM_NAME', '`events:{orders}`'));
      assert.throws(() => redis.sluice.stream(42 as unknown as string), matches(InvalidStreamNameError, 'ERR_INVALID_STREAM_NAME', '42'));
    });
  });

  test('a bad read `from`', async () => {
    await withoutIo(async () => {
      await assert.rejects(iterate({ from: 'yesterday' }), matches(InvalidStreamIdError, 'ERR_INVALID_STREAM_ID', '`yesterday`'));
      await assert.rejects(iterate({ from: 'yesterday', block: 1000 }), matches(InvalidStreamIdError, 'ERR_INVALID_STREAM_ID', '`yesterday`'));
      await assert.rejects(iterate({ from: '12-abc' }), matches(InvalidStreamIdError, 'ERR_INVALID_STREAM_ID', '`12-abc`'));
      await assert.rejects(iterate({ from: new Date(Number.NaN) }), matches(InvalidStreamIdError, 'ERR_INVALID_STREAM_ID', 'an invalid Date'));
    });
  });

  test('bad IDs and times in range', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('bad')}orders`);
    await withoutIo(async () => {
      await assert.rejects(stream.range({ from: 'abc' }), matches(InvalidStreamIdError, 'ERR_INVALID_STREAM_ID', '`abc`'));
      await assert.rejects(stream.range({ to: 'abc' }), matches(InvalidStreamIdError, 'ERR_INVALID_STREAM_ID', '`abc`'));
      await assert.rejects(stream.range({ from: '1-2-3' }), matches(InvalidStreamIdError, 'ERR_INVALID_STREAM_ID', '`1-2-3`'));
      await assert.rejects(stream.range({ from: -5 }), matches(InvalidStreamIdError, 'ERR_INVALID_STREAM_ID', '-5'));
      await assert.rejects(stream.range({ from: 'yesterday' }), matches(InvalidStreamIdError, 'ERR_INVALID_STREAM_ID', '`yesterday`'));
    });
  });

  test('bad durations', async () => {
    await withoutIo(async () => {
      assert.throws(
        () => redis.sluice.stream(`${uniquePrefix('bad')}orders`, { retention: { maxAge: '5 parsecs' } }),
        matches(InvalidTimeError, 'ERR_INVALID_TIME', '`5 parsecs`'),
      );
      assert.throws(() => redis.sluice.stream(`${uniquePrefix('bad')}orders`, { retention: { maxAge: '5 parsecs' } }), /`retention\.maxAge`/);
      await assert.rejects(redis.sluice.stream(`${uniquePrefix('bad')}orders`).trim({ maxAge: 'ages' }), matches(InvalidTimeError, 'ERR_INVALID_TIME', '`ages`'));
      await assert.rejects(connect({ url: redis.server.url, commandTimeout: 'soon' }), matches(InvalidTimeError, 'ERR_INVALID_TIME', '`soon`'));
      await assert.rejects(connect({ url: redis.server.url, connectTimeout: -1 }), matches(InvalidTimeError, 'ERR_INVALID_TIME', '-1'));
    });
  });

  test('bad read and range options', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('bad')}orders`);
    await withoutIo(async () => {
      await assert.rejects(iterate({ count: 0 }), matches(InvalidOptionError, 'ERR_INVALID_OPTION', 'got 0'));
      await assert.rejects(iterate({ count: 2.5 }), matches(InvalidOptionError, 'ERR_INVALID_OPTION', 'got 2.5'));
      await assert.rejects(iterate({ block: 0 }), matches(InvalidOptionError, 'ERR_INVALID_OPTION', 'got 0'));
      await assert.rejects(iterate({ block: -1 }), matches(InvalidOptionError, 'ERR_INVALID_OPTION', 'got -1'));
      await assert.rejects(iterate({ onInvalid: 'ignore' as 'skip' }), matches(InvalidOptionError, 'ERR_INVALID_OPTION', '`ignore`'));
      await assert.rejects(stream.range({ count: 0 }), matches(InvalidOptionError, 'ERR_INVALID_OPTION', 'got 0'));
    });
    await assert.rejects(iterate({ block: 0 }), (error: unknown) => error instanceof InvalidOptionError && error.option === 'block' && /BLOCK 0/.test(error.message));
  });

  test('bad stream and publish options', async () => {
    const name = `${uniquePrefix('bad')}orders`;
    await withoutIo(async () => {
      assert.throws(() => redis.sluice.stream(name, { codec: 'avro' as 'json' }), matches(InvalidOptionError, 'ERR_INVALID_OPTION', '`avro`'));
      assert.throws(() => redis.sluice.stream(name, { schema: { parse: () => 1 } as never }), matches(InvalidOptionError, 'ERR_INVALID_OPTION', 'schema'));
      assert.throws(() => redis.sluice.stream(name, { retention: { maxLen: -1 } }), matches(InvalidOptionError, 'ERR_INVALID_OPTION', 'got -1'));
      assert.throws(() => redis.sluice.stream(name, { retention: {} }), matches(InvalidOptionError, 'ERR_INVALID_OPTION', 'got {}'));
      await assert.rejects(redis.sluice.stream(name).publish({ a: '1' }, { key: '' }), matches(InvalidOptionError, 'ERR_INVALID_OPTION', 'got ``'));
      await assert.rejects(redis.sluice.stream(name).publishMany('abc' as never), matches(InvalidOptionError, 'ERR_INVALID_OPTION', '`abc`'));
    });
  });

  test('bad connect options fail before connecting', async () => {
    await withoutIo(async () => {
      await assert.rejects(connect({ url: `http://127.0.0.1:${redis.server.port}` }), matches(InvalidOptionError, 'ERR_INVALID_OPTION', '`http://127.0.0.1:'));
      await assert.rejects(connect({ url: 'not a url' }), matches(InvalidOptionError, 'ERR_INVALID_OPTION', '`not a url`'));
      await assert.rejects(connect({ url: redis.server.url, publisher: { maxBatch: 0 } }), matches(InvalidOptionError, 'ERR_INVALID_OPTION', 'got 0'));
      await assert.rejects(connect({ url: redis.server.url, publisher: { onFull: 'drop' as 'reject' } }), matches(InvalidOptionError, 'ERR_INVALID_OPTION', '`drop`'));
    });
  });
});
