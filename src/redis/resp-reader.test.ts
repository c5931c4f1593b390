import { ErrorReply } from '@redis/client';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RespProtocolError, RespReader } from './resp-reader.js';

function readAll(chunks: Array<string | Buffer>): unknown[] {
  const reader = new RespReader();
  const replies: unknown[] = [];
  for (const chunk of chunks) reader.feed(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, (reply) => replies.push(reply));
  return replies;
}

describe('RespReader', () => {
  test('reads every RESP2 type', () => {
    const replies = readAll(['$15\r\n1692632086370-0\r\n+OK\r\n:42\r\n:-3\r\n$-1\r\n*-1\r\n$0\r\n\r\n*3\r\n$1\r\na\r\n:1\r\n*1\r\n+x\r\n*0\r\n']);
    assert.deepEqual(replies, ['1692632086370-0', 'OK', 42, -3, null, null, '', ['a', 1, ['x']], []]);
  });

  test('error replies become node-redis ErrorReply values', () => {
    const [error] = readAll(['-WRONGTYPE Operation against a key holding the wrong kind of value\r\n']);
    assert.ok(error instanceof ErrorReply);
    assert.equal(error.message, 'WRONGTYPE Operation against a key holding the wrong kind of value');
  });

  test('bulk strings are UTF-8', () => {
    assert.deepEqual(readAll([Buffer.concat([Buffer.from('$5\r\n'), Buffer.from('café'), Buffer.from('\r\n')])]), ['café']);
  });

  test('replies cut at any byte are read once complete, in order', () => {
    const wire = '$15\r\n1692632086370-0\r\n-LOADING Redis is loading\r\n:7\r\n*2\r\n$2\r\nab\r\n$-1\r\n+OK\r\n';
    const expected = readAll([wire]);
    for (let cut = 1; cut < wire.length; cut++) {
      assert.deepEqual(readAll([wire.slice(0, cut), wire.slice(cut)]).map(String), expected.map(String), `cut at ${cut}`);
    }
    assert.deepEqual(readAll(wire.split('')).map(String), expected.map(String));
  });

  test('throws RespProtocolError on bytes that are not RESP', () => {
    assert.throws(() => readAll(['HTTP/1.1 400 Bad Request\r\n']), RespProtocolError);
    assert.throws(() => readAll(['$1x\r\n']), RespProtocolError);
  });
});
