import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidStreamNameError } from '../errors.js';
import { assertStreamName, helperKey } from './stream-name.js';

describe('assertStreamName', () => {
  test('accepts names as Redis keys', () => {
    for (const name of ['events:orders', 'orders', 'a.b-c_d:1', 'x'.repeat(512), 'événements']) {
      assert.equal(assertStreamName(name), name);
    }
  });

  test('refuses bad names with InvalidStreamNameError naming the value', () => {
    const cases: Array<[unknown, RegExp]> = [
      ['', /non-empty/],
      ['events orders', /no spaces/],
      ['events\torders', /no spaces/],
      ['events\norders', /no spaces/],
      ['events\u0000', /control/],
      ['{}:orders', /`\{`/],
      ['events:{orders}', /`\{`/],
      ['{a}{b}', /`\{`/],
      ['events:orders}', /`\{`/],
      ['x'.repeat(513), /at most 512/],
      [42, /a string/],
      [undefined, /a string/],
      [null, /a string/],
    ];
    for (const [name, reason] of cases) {
      assert.throws(
        () => assertStreamName(name),
        (error: unknown) =>
          error instanceof InvalidStreamNameError &&
          error.code === 'ERR_INVALID_STREAM_NAME' &&
          error.value === name &&
          reason.test(error.message),
        `assertStreamName(${JSON.stringify(name)})`,
      );
    }
    assert.throws(() => assertStreamName('events orders'), /Invalid stream name `events orders`/);
  });
});

describe('helperKey', () => {
  test('uses the stream name as the hash tag', () => {
    assert.equal(helperKey('events:orders', 'dlq'), '{events:orders}:dlq');
  });

  test('a helper stream (leading hash tag) is a stream too, and keeps its tag', () => {
    assert.equal(assertStreamName('{events:orders}:dlq'), '{events:orders}:dlq');
    assert.equal(helperKey('{events:orders}:dlq', 'idmp'), '{events:orders}:dlq:idmp');
  });
});
