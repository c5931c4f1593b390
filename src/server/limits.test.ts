import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { describe, test } from 'node:test';
import { InvalidOptionError } from '../errors.js';
import { firstInvalidUtf8 } from './body.js';
import { DEFAULT_LIMITS, formatSize, parseSize, resolveLimits } from './limits.js';

describe('parseSize', () => {
  test('bytes, and k/m/g units as powers of 1024', () => {
    assert.equal(parseSize(65_536, 'x'), 65_536);
    assert.equal(parseSize('1024', 'x'), 1024);
    assert.equal(parseSize('512kb', 'x'), 512 * 1024);
    assert.equal(parseSize('1mb', 'x'), 1024 * 1024);
    assert.equal(parseSize('4MiB', 'x'), 4 * 1024 * 1024);
    assert.equal(parseSize('1.5m', 'x'), 1.5 * 1024 * 1024);
  });

  test('refuses what is not a size ≥ 1 byte, naming the option', () => {
    for (const bad of ['', '0', '-1', 'lots', '1tb', 1.5, 0, Number.NaN]) {
      assert.throws(() => parseSize(bad, '--max-body'), (error: unknown) => error instanceof InvalidOptionError && /`--max-body`/.test(error.message), String(bad));
    }
  });
});

test('resolveLimits: defaults, and each limit checked', () => {
  assert.deepEqual(resolveLimits(), DEFAULT_LIMITS);
  assert.deepEqual(resolveLimits({ maxBody: '2mb', maxEvents: 5 }), { ...DEFAULT_LIMITS, maxBodyBytes: 2 * 1024 * 1024, maxEvents: 5 });
  assert.throws(() => resolveLimits({ maxFields: 0 }), /`limits.maxFields`/);
});

test('formatSize', () => {
  assert.equal(formatSize(1024 * 1024), '1 MiB');
  assert.equal(formatSize(64 * 1024), '64 KiB');
  assert.equal(formatSize(1000), '1000 bytes');
});

test('firstInvalidUtf8 agrees with isUtf8, and points at the bad byte', () => {
  assert.equal(firstInvalidUtf8(Buffer.from('{"a":"é😀"}')), -1);
  assert.equal(firstInvalidUtf8(Buffer.from([0x7b, 0x22, 0xff, 0x22])), 2);
  assert.equal(firstInvalidUtf8(Buffer.from([0x61, 0xc0, 0x80])), 1); // overlong
  assert.equal(firstInvalidUtf8(Buffer.from([0x61, 0xed, 0xa0, 0x80])), 1); // surrogate
  assert.equal(firstInvalidUtf8(Buffer.from([0x61, 0x62, 0xe2, 0x82])), 2); // truncated
  let seed = 7;
  for (let n = 0; n < 5000; n++) {
    const bytes = Buffer.alloc(1 + (n % 9));
    for (let i = 0; i < bytes.length; i++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      bytes[i] = seed % 4 === 0 ? 0x41 : seed >> 8;
    }
    assert.equal(firstInvalidUtf8(bytes) === -1, isUtf8(bytes), bytes.toString('hex'));
  }
});
