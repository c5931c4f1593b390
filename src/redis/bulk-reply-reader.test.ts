import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SimpleError } from '@redis/client';
import { BulkReplyReader } from './bulk-reply-reader.js';
import { RespReader } from './resp-reader.js';

const ENTRY = (i: number) => `*2\r\n$${String(i).length + 14}\r\n1700000000000-${i}\r\n*4\r\n$8\r\norder_id\r\n$5\r\n12345\r\n$6\r\nstatus\r\n$7\r\npending\r\n`;
/** An XREADGROUP reply of `count` entries, then an XACK reply, a nil and an error. */
function replies(count: number, value = 'pending'): Buffer {
  const entries = Array.from({ length: count }, (_, i) => ENTRY(i).replace('$7\r\npending', `$${Buffer.byteLength(value)}\r\n${value}`)).join('');
  return Buffer.from(`*1\r\n*2\r\n$6\r\norders\r\n*${count}\r\n${entries}:${count}\r\n*-1\r\n$-1\r\n+OK\r\n-NOGROUP no such group\r\n*0\r\n`);
}

function parseAll(bytes: Buffer, chunkSize: number, reader: { feed(chunk: Buffer, onReply: (reply: unknown) => void): void }): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < bytes.length; i += chunkSize) reader.feed(bytes.subarray(i, i + chunkSize), (reply) => out.push(reply));
  return out;
}

test('BulkReplyReader gives what RespReader gives, whatever the chunking', () => {
  for (const value of ['pending', 'café ☕ — 12 chars or more']) {
    const bytes = replies(300, value);
    const expected = parseAll(bytes, bytes.length, new RespReader());
    assert.equal(expected.length, 7);
    for (const size of [1, 2, 3, 7, 64, 1000, 65536, bytes.length]) {
      const got = parseAll(bytes, size, new BulkReplyReader());
      assert.deepEqual(got, expected, `chunks of ${size}`);
    }
  }
});

test('BulkReplyReader: values, nil, errors as SimpleError, long and short strings', () => {
  const got = parseAll(replies(2), 5, new BulkReplyReader());
  const [read, acked, nilArray, nilString, ok, error, empty] = got as [unknown[], number, null, null, string, SimpleError, unknown[]];
  assert.deepEqual(read, [['orders', [['1700000000000-0', ['order_id', '12345', 'status', 'pending']], ['1700000000000-1', ['order_id', '12345', 'status', 'pending']]]]]);
  assert.equal(acked, 2);
  assert.equal(nilArray, null);
  assert.equal(nilString, null);
  assert.equal(ok, 'OK');
  assert.ok(error instanceof SimpleError);
  assert.equal(error.message, 'NOGROUP no such group');
  assert.deepEqual(empty, []);
});

test('BulkReplyReader keeps a partial reply across feeds and forgets it on reset', () => {
  const reader = new BulkReplyReader();
  const out: unknown[] = [];
  reader.feed(Buffer.from('*2\r\n$3\r\nab'), (r) => out.push(r));
  assert.equal(out.length, 0);
  reader.reset();
  reader.feed(Buffer.from(':7\r\n'), (r) => out.push(r));
  assert.deepEqual(out, [7]);
});
