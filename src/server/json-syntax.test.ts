import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { findJsonSyntaxError, lineAndColumn } from './json-syntax.js';

/** A deterministic pseudo-random generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

const PIECES = ['{', '}', '[', ']', ',', ':', '"a"', '"b\\n"', '"\\u00e9"', '"\\x"', '"\\u12"', '1', '-0.5e+3', '01', '-', '1.', 'true', 'tru', 'null', 'false', ' ', '\n', '\t', '"', 'x', '\u0001', '"é"', '1e', '.5'];

function agrees(text: string): boolean {
  let parses = true;
  try {
    JSON.parse(text);
  } catch {
    parses = false;
  }
  return parses === (findJsonSyntaxError(text) === undefined);
}

describe('findJsonSyntaxError', () => {
  test('agrees with JSON.parse on valid documents', () => {
    for (const text of ['{}', '[]', ' {"a":1,"b":[true,false,null,"x\\"y",-0.5e10,{"c":{}}]} ', '"s"', '0', '-1.25E-3', '[[[[]]]]', '{"a":"\\ud83d\\ude00"}']) {
      assert.equal(findJsonSyntaxError(text), undefined, text);
    }
  });

  test('agrees with JSON.parse on 20,000 random texts', () => {
    const next = random(42);
    for (let n = 0; n < 20_000; n++) {
      const length = 1 + Math.floor(next() * 8);
      let text = '';
      for (let k = 0; k < length; k++) text += PIECES[Math.floor(next() * PIECES.length)];
      assert.ok(agrees(text), `disagrees with JSON.parse on ${JSON.stringify(text)}`);
    }
  });

  test('points at the first character that cannot be there', () => {
    const cases: Array<[string, number, RegExp]> = [
      ['{"a": }', 6, /unexpected `}`, expected a value/],
      ['{"a":1,}', 7, /expected a property name/],
      ['[1,2', 4, /unexpected end of input, expected `,` or `]`/],
      ['{"a" 1}', 5, /expected `:`/],
      ['{"a":1} x', 8, /unexpected text after the JSON value/],
      ['{"a":"b', 5, /string never closed/],
      ['{"a":01}', 6, /expected `,` or `}`/],
      ['{"a":tru}', 8, /expected `true`/],
      ['{"a":"\\q"}', 7, /after \\/],
      ['{"a":"x\ty"}', 7, /U\+0009 inside a string/],
      ['', 0, /unexpected end of input, expected a value/],
      ["{'a':1}", 1, /expected a property name in double quotes or `}`/],
    ];
    for (const [text, offset, reason] of cases) {
      const found = findJsonSyntaxError(text);
      assert.ok(found, text);
      assert.equal(found.offset, offset, text);
      assert.match(found.reason, reason, text);
    }
  });

  test('scans only the given range (an NDJSON line)', () => {
    const text = '{"a":1}\n{"b":}\n{"c":3}';
    assert.equal(findJsonSyntaxError(text, 0, 7), undefined);
    assert.equal(findJsonSyntaxError(text, 8, 14)?.offset, 13);
    assert.equal(findJsonSyntaxError(text, 15, text.length), undefined);
  });

  test('does not overflow the stack on deep nesting', () => {
    const deep = '['.repeat(200_000) + ']'.repeat(199_999);
    assert.equal(findJsonSyntaxError(deep)?.offset, deep.length);
  });
});

describe('lineAndColumn', () => {
  test('counts lines and columns from 1, a character outside the BMP as one column', () => {
    const text = 'ab\ncd\n😀x';
    assert.deepEqual(lineAndColumn(text, 0), { line: 1, column: 1 });
    assert.deepEqual(lineAndColumn(text, 4), { line: 2, column: 2 });
    assert.deepEqual(lineAndColumn(text, text.indexOf('x')), { line: 3, column: 2 });
  });
});
