import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HttpError } from './http-error.js';
import { bodyFormat, parseEvents } from './parse-events.js';

function httpError(status: number, code: string, pattern?: RegExp, details?: Record<string, unknown>) {
  return (error: unknown) => {
    assert.ok(error instanceof HttpError, String(error));
    assert.equal(error.status, status);
    assert.equal(error.code, code);
    if (pattern) assert.match(error.message, pattern);
    for (const [key, value] of Object.entries(details ?? {})) assert.deepEqual(error.details[key], value, key);
    return true;
  };
}

describe('bodyFormat', () => {
  test('JSON by default and for application/json and +json types; NDJSON by its types', () => {
    assert.equal(bodyFormat(undefined), 'json');
    assert.equal(bodyFormat('application/json; charset=utf-8'), 'json');
    assert.equal(bodyFormat('application/cloudevents-batch+json'), 'json');
    assert.equal(bodyFormat('application/x-ndjson'), 'ndjson');
    assert.equal(bodyFormat('Application/JSONL'), 'ndjson');
  });

  test('anything else is a 415 that says what to send', () => {
    assert.throws(() => bodyFormat('application/x-www-form-urlencoded'), httpError(415, 'ERR_UNSUPPORTED_MEDIA_TYPE', /curl -d sends that/));
    assert.throws(() => bodyFormat('text/csv'), httpError(415, 'ERR_UNSUPPORTED_MEDIA_TYPE'));
    assert.throws(() => bodyFormat('application/json; charset=latin1'), httpError(415, 'ERR_UNSUPPORTED_MEDIA_TYPE', /UTF-8/));
  });
});

describe('parseEvents', () => {
  test('an object is one event, an array many', () => {
    assert.deepEqual(parseEvents('{"a":"1"}', 'json', 10), { events: [{ a: '1' }], lines: undefined });
    assert.deepEqual(parseEvents('[{"a":"1"},{"a":"2"}]', 'json', 10).events, [{ a: '1' }, { a: '2' }]);
  });

  test('NDJSON: one event per line, blank lines and CRLF endings allowed, line numbers kept', () => {
    const parsed = parseEvents('{"a":1}\r\n\n  \n{"a":2}\n{"a":3}', 'ndjson', 10);
    assert.deepEqual(parsed.events, [{ a: 1 }, { a: 2 }, { a: 3 }]);
    assert.deepEqual(parsed.lines, [1, 4, 5]);
  });

  test('a byte-order mark is skipped, and counted in byte offsets', () => {
    assert.deepEqual(parseEvents('\ufeff{"a":1}', 'json', 10).events, [{ a: 1 }]);
    assert.throws(() => parseEvents('\ufeff{"a":}', 'json', 10), httpError(400, 'ERR_MALFORMED_JSON', /line 1, column 6 \(byte 8\)/, { line: 1, column: 6, offset: 8 }));
  });

  test('malformed JSON: line, column and byte offset', () => {
    assert.throws(
      () => parseEvents('{\n  "order_id": "é",\n  "amount": 99.99,\n}', 'json', 10),
      httpError(400, 'ERR_MALFORMED_JSON', /^Malformed JSON at line 4, column 1 \(byte 41\): unexpected `}`/, { line: 4, column: 1, offset: 41 }),
    );
  });

  test('malformed NDJSON: the line number, and the column within the line', () => {
    assert.throws(
      () => parseEvents('{"a":1}\n{"a":2}\n{"a" 3}\n', 'ndjson', 10),
      httpError(400, 'ERR_MALFORMED_JSON', /^Malformed JSON on NDJSON line 3, column 6 \(byte 21\): .*expected `:`/, { line: 3, column: 6, offset: 21 }),
    );
  });

  test('empty bodies and arrays are refused', () => {
    assert.throws(() => parseEvents('  \n', 'json', 10), httpError(400, 'ERR_NO_EVENTS'));
    assert.throws(() => parseEvents('\n\n', 'ndjson', 10), httpError(400, 'ERR_NO_EVENTS'));
    assert.throws(() => parseEvents('[]', 'json', 10), httpError(400, 'ERR_NO_EVENTS'));
  });

  test('more events than maxEvents is a 413 naming the limit', () => {
    assert.throws(() => parseEvents('[{},{},{}]', 'json', 2), httpError(413, 'ERR_TOO_MANY_EVENTS', /at most 2 events.*got 3/, { limit: 'maxEvents', max: 2 }));
    assert.throws(() => parseEvents('{}\n{}\n{}\n', 'ndjson', 2), httpError(413, 'ERR_TOO_MANY_EVENTS', /at most 2 events/));
    assert.equal(parseEvents('{}\n{}\n', 'ndjson', 2).events.length, 2);
  });
});
