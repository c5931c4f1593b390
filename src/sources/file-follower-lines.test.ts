import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classifyChange, LineSplitter } from './file-follower-lines.js';

test('LineSplitter gives complete lines and holds the start of an incomplete one', () => {
  const splitter = new LineSplitter();
  assert.deepEqual(splitter.push(Buffer.from('{"a":1}\n{"b":2}\n{"c"')), ['{"a":1}', '{"b":2}']);
  assert.equal(splitter.heldBytes, 4);
  assert.deepEqual(splitter.push(Buffer.from(':3')), [], 'no newline yet: nothing');
  assert.equal(splitter.heldBytes, 6);
  assert.deepEqual(splitter.push(Buffer.from('}\n\n{"d":4}\n')), ['{"c":3}', '', '{"d":4}']);
  assert.equal(splitter.heldBytes, 0);
});

test('LineSplitter copies what it holds: the caller may reuse its buffer', () => {
  const splitter = new LineSplitter();
  const buffer = Buffer.from('{"id":');
  assert.deepEqual(splitter.push(buffer), []);
  buffer.fill('x');
  assert.deepEqual(splitter.push(Buffer.from('7}\n')), ['{"id":7}']);
});

test('LineSplitter keeps a UTF-8 character cut between two chunks whole, and drops \\r of \\r\\n', () => {
  const splitter = new LineSplitter();
  const bytes = Buffer.from('{"city":"Zürich"}\r\n', 'utf8');
  const cut = bytes.indexOf(0xc3) + 1; // between the two bytes of ü
  assert.deepEqual(splitter.push(bytes.subarray(0, cut)), []);
  assert.deepEqual(splitter.push(bytes.subarray(cut)), ['{"city":"Zürich"}']);
  assert.deepEqual(splitter.push(Buffer.from('\r\n')), [''], 'a blank CRLF line');
  assert.deepEqual(splitter.push(Buffer.from('a\rb\n')), ['a\rb'], 'a \\r inside a line stays');
});

test('LineSplitter: a line spread over many chunks, flush and reset', () => {
  const splitter = new LineSplitter();
  const parts = ['{"n', '":', '"', '12', '3"', '}'];
  for (const part of parts) assert.deepEqual(splitter.push(Buffer.from(part)), []);
  assert.deepEqual(splitter.push(Buffer.from('\nx')), ['{"n":"123"}']);
  assert.equal(splitter.flush(), 'x', 'the last line of a file without a newline');
  assert.equal(splitter.flush(), undefined);
  splitter.push(Buffer.from('cut'));
  splitter.reset();
  assert.equal(splitter.heldBytes, 0);
  assert.deepEqual(splitter.push(Buffer.from('new\n')), ['new'], 'nothing of the dropped bytes');
});

test('classifyChange tells growth, truncation, replacement and a missing path apart', () => {
  const file = { dev: 1, ino: 10 };
  assert.equal(classifyChange(100, { ...file, size: 150 }, file), 'grew');
  assert.equal(classifyChange(100, { ...file, size: 100 }, file), 'unchanged');
  assert.equal(classifyChange(100, { ...file, size: 40 }, file), 'truncated');
  assert.equal(classifyChange(100, { ...file, size: 100 }, { dev: 1, ino: 11 }), 'replaced');
  assert.equal(classifyChange(100, { ...file, size: 100 }, { dev: 2, ino: 10 }), 'replaced', 'same inode on another device');
  assert.equal(classifyChange(100, { ...file, size: 100 }, undefined), 'missing');
  // The old file is read to its end before going over to the new one.
  assert.equal(classifyChange(100, { ...file, size: 120 }, { dev: 1, ino: 11 }), 'grew');
  assert.equal(classifyChange(100, { ...file, size: 120 }, undefined), 'grew');
  // An old file cut after it was replaced: go over to the new one.
  assert.equal(classifyChange(100, { ...file, size: 0 }, { dev: 1, ino: 11 }), 'replaced');
});
