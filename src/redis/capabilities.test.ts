import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { docTokens } from './capabilities.js';

// Shaped like a RESP2 COMMAND DOCS XADD reply: nested flat arrays of name/value pairs.
const xaddDocs = [
  'xadd',
  [
    'summary', 'Appends a new message to a stream. Creates the key if it doesn\'t exist.',
    'since', '5.0.0',
    'arguments', [
      ['name', 'key', 'type', 'key', 'display_text', 'key', 'key_spec_index', 0],
      ['name', 'nomkstream', 'type', 'pure-token', 'display_text', 'nomkstream', 'token', 'NOMKSTREAM', 'since', '6.2.0', 'flags', ['optional']],
      [
        'name', 'trim', 'type', 'block', 'flags', ['optional'],
        'arguments', [
          ['name', 'strategy', 'type', 'oneof', 'arguments', [['name', 'maxlen', 'type', 'pure-token', 'token', 'MAXLEN'], ['name', 'minid', 'type', 'pure-token', 'token', 'minid']]],
          ['name', 'limit', 'type', 'integer', 'token', 'LIMIT'],
        ],
      ],
      ['name', 'id-selector', 'type', 'oneof', 'arguments', [['name', 'auto-id', 'type', 'pure-token', 'token', '*']]],
    ],
  ],
];

describe('docTokens', () => {
  test('collects every token at any depth, upper-cased', () => {
    assert.deepEqual([...docTokens(xaddDocs)].sort(), ['*', 'LIMIT', 'MAXLEN', 'MINID', 'NOMKSTREAM']);
  });

  test('does not take a name or a value that merely reads "token"', () => {
    const tokens = docTokens(['name', 'token', 'type', 'string', 'display_text', 'token']);
    assert.equal(tokens.size, 0);
  });

  test('is empty for a missing command (nil or empty reply) and ignores non-string token values', () => {
    assert.equal(docTokens(null).size, 0);
    assert.equal(docTokens([]).size, 0);
    assert.equal(docTokens(['token', 5]).size, 0);
  });

  test('adds to the set it is given', () => {
    const out = new Set(['ACKED']);
    docTokens(['token', 'idmp'], out);
    assert.deepEqual([...out].sort(), ['ACKED', 'IDMP']);
  });
});
