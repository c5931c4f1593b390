import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidOptionError } from '../errors.js';
import { keyAt, parseKeyPath, prefixOptionError, renderKeyPath } from './key-path.js';

test('key paths render names with dots, indexes and odd names in brackets, and parse back', () => {
  const cases: Array<[Array<string | number>, string]> = [
    [['steps', 1, 'route', 0, 'when'], 'steps[1].route[0].when'],
    [['pipelines', 2, 'sinks', 0, 'columns', 'event_id'], 'pipelines[2].sinks[0].columns.event_id'],
    [['steps', 0, 'map', 'order.id'], 'steps[0].map["order.id"]'],
    [['steps', 0, 'map', 'a"]b'], 'steps[0].map["a\\"]b"]'],
    [[0, 'name'], '[0].name'],
  ];
  for (const [segments, text] of cases) {
    assert.equal(renderKeyPath(segments), text);
    assert.deepEqual(parseKeyPath(text), segments);
  }
});

test('keyAt appends to a path, and to nothing', () => {
  assert.equal(keyAt('', 'source', 'stream'), 'source.stream');
  assert.equal(keyAt('pipelines[1]', 'steps', 0), 'pipelines[1].steps[0]');
  assert.equal(keyAt('steps[0]', 'map', 'x-y'), 'steps[0].map.x-y');
});

test('text that is not a key path parses to undefined', () => {
  assert.equal(parseKeyPath('.leading'), undefined);
  assert.equal(parseKeyPath('a[unclosed'), undefined);
  assert.equal(parseKeyPath('a["x"'), undefined);
});

test('prefixOptionError moves an error under a longer path, in `option` and in the message', () => {
  const error = prefixOptionError(new InvalidOptionError('concurrency', 0, 'a whole number ≥ 1'), 'consumer');
  assert.ok(error instanceof InvalidOptionError);
  assert.equal(error.option, 'consumer.concurrency');
  assert.equal(error.message, 'Expected `consumer.concurrency` to be a whole number ≥ 1, got 0');
  assert.equal(prefixOptionError(new InvalidOptionError('backoff.max', 5, 'more'), 'pipelines[0].consumer').option, 'pipelines[0].consumer.backoff.max');
});
