import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidOptionError, InvalidStreamIdError } from '../errors.js';
import { checkReadOptions, startAfter } from './reader.js';
import { MAX_SEQ } from './stream-id.js';

describe('startAfter', () => {
  test('$ is resolved later; 0 is the beginning; an ID is kept', () => {
    assert.equal(startAfter('$'), undefined);
    assert.equal(startAfter('0'), '0-0');
    assert.equal(startAfter('0-0'), '0-0');
    assert.equal(startAfter('1692632086370-4'), '1692632086370-4');
  });

  test('a time starts just before its first possible ID, so events of that millisecond are included', () => {
    assert.equal(startAfter(new Date(1692632086370)), `1692632086369-${MAX_SEQ}`);
    assert.equal(startAfter('2023-08-21T15:34:46.370Z'), `1692632086369-${MAX_SEQ}`);
    assert.equal(startAfter(new Date(0)), '0-0');
  });

  test('anything else is InvalidStreamIdError naming `from` and the value', () => {
    for (const value of ['yesterday', 'abc', '', '1692632086370-x']) {
      assert.throws(
        () => startAfter(value),
        (error: unknown) =>
          error instanceof InvalidStreamIdError && error.code === 'ERR_INVALID_STREAM_ID' && error.message.includes('`from`') && error.message.includes(`got \`${value}\``),
        value,
      );
    }
  });
});

describe('checkReadOptions', () => {
  test('defaults', () => {
    assert.deepEqual(checkReadOptions({}), { count: 100, block: undefined, onInvalid: 'throw' });
    assert.deepEqual(checkReadOptions({ count: 5, block: 1000, onInvalid: 'skip', from: '0' }), { count: 5, block: 1000, onInvalid: 'skip' });
  });

  test('refuses bad options with InvalidOptionError naming option and value', () => {
    const bad = (options: object, option: string, shown: string) =>
      assert.throws(
        () => checkReadOptions(options),
        (error: unknown) => error instanceof InvalidOptionError && error.code === 'ERR_INVALID_OPTION' && error.option === option && error.message.endsWith(`got ${shown}`),
        JSON.stringify(options),
      );
    bad({ count: 0 }, 'count', '0');
    bad({ count: 1.5 }, 'count', '1.5');
    bad({ count: '10' }, 'count', '`10`');
    bad({ block: 0 }, 'block', '0');
    bad({ block: -5 }, 'block', '-5');
    bad({ onInvalid: 'ignore' }, 'onInvalid', '`ignore`');
    assert.throws(() => checkReadOptions({ from: 'yesterday' }), InvalidStreamIdError);
  });
});
