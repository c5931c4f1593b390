import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidFieldError, InvalidInputError } from '../errors.js';
import { fieldsCodec, jsonCodec } from './codec.js';
import { eventOfLine } from './json-line.js';

test('a JSON object line is its event; anything else says what it got, without the line\'s place', () => {
  assert.deepEqual(eventOfLine('{"order_id":"12345","amount":99.99}', fieldsCodec), { order_id: '12345', amount: 99.99 });
  const refused = (line: string, message: RegExp) =>
    assert.throws(() => eventOfLine(line, fieldsCodec), (error: unknown) => error instanceof InvalidInputError && message.test(error.message));
  refused('{"order_id":', /^expected a JSON object, got invalid JSON \(/);
  refused('[1,2]', /^expected a JSON object like \{"order_id":"12345"\}, got an array$/);
  refused('null', /got null$/);
  refused('"text"', /got `text`$/);
  // What the codec cannot store is refused here too: nested data with the fields codec.
  assert.throws(() => eventOfLine('{"lines":[{"sku":"A1"}]}', fieldsCodec), InvalidFieldError);
  assert.deepEqual(eventOfLine('{"lines":[{"sku":"A1"}]}', jsonCodec), { lines: [{ sku: 'A1' }] });
});
