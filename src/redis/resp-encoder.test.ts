import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CommandEncoder } from './resp-encoder.js';

describe('CommandEncoder', () => {
  test('encodes commands as RESP arrays of bulk strings, one Buffer per take()', () => {
    const encoder = new CommandEncoder();
    encoder.push(['XADD', 'events:orders', '*', 'order_id', '12345']);
    encoder.push(['PING']);
    assert.equal(
      encoder.take().toString(),
      '*5\r\n$4\r\nXADD\r\n$13\r\nevents:orders\r\n$1\r\n*\r\n$8\r\norder_id\r\n$5\r\n12345\r\n*1\r\n$4\r\nPING\r\n',
    );
    assert.equal(encoder.length, 0);
    assert.equal(encoder.take().length, 0);
  });

  test('length prefixes count UTF-8 bytes, empty and long arguments included', () => {
    const encoder = new CommandEncoder();
    const long = 'x'.repeat(12345);
    encoder.push(['SET', 'clé', 'naïve ☕ 😀', '', long]);
    assert.equal(encoder.take().toString(), `*5\r\n$3\r\nSET\r\n$4\r\nclé\r\n$15\r\nnaïve ☕ 😀\r\n$0\r\n\r\n$12345\r\n${long}\r\n`);
  });

  test('slices already taken are never overwritten, also when the pool is replaced', () => {
    const encoder = new CommandEncoder();
    encoder.push(['SET', 'a', '1']);
    const first = encoder.take();
    const copy = Buffer.from(first);
    // More than the 1 MiB pool: forces a new one, with the untaken bytes moved over.
    for (let i = 0; i < 3000; i++) encoder.push(['XADD', 'k', '*', 'v', 'y'.repeat(500)]);
    const second = encoder.take();
    assert.deepEqual(first, copy);
    assert.ok(second.toString().startsWith('*5\r\n$4\r\nXADD\r\n'));
    assert.equal(second.length, 3000 * `*5\r\n$4\r\nXADD\r\n$1\r\nk\r\n$1\r\n*\r\n$1\r\nv\r\n$500\r\n${'y'.repeat(500)}\r\n`.length);
  });

  test('pushEncoded() appends a command taken before, byte for byte, between others', () => {
    const encoder = new CommandEncoder();
    encoder.push(['PING']);
    const start = encoder.length;
    encoder.push(['XADD', 'k', '*', 'note', 'café']);
    const end = encoder.length;
    const first = encoder.take();
    encoder.push(['ECHO', 'a']);
    encoder.pushEncoded(first, start, end);
    encoder.push(['ECHO', 'b']);
    assert.equal(encoder.take().toString(), '*2\r\n$4\r\nECHO\r\n$1\r\na\r\n*5\r\n$4\r\nXADD\r\n$1\r\nk\r\n$1\r\n*\r\n$4\r\nnote\r\n$5\r\ncafé\r\n*2\r\n$4\r\nECHO\r\n$1\r\nb\r\n');
  });

  test('clear() drops what was not taken', () => {
    const encoder = new CommandEncoder();
    encoder.push(['PING']);
    encoder.clear();
    assert.equal(encoder.length, 0);
    encoder.push(['ECHO', 'hi']);
    assert.equal(encoder.take().toString(), '*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n');
  });
});
