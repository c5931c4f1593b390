import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatTraceparent, isTraceparent, parseTraceparent } from './traceparent.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';

test('formats version 00 with two-digit hex flags', () => {
  assert.equal(formatTraceparent({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 }), `00-${TRACE_ID}-${SPAN_ID}-01`);
  assert.equal(formatTraceparent({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 0 }), `00-${TRACE_ID}-${SPAN_ID}-00`);
  assert.equal(formatTraceparent({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 0xab }), `00-${TRACE_ID}-${SPAN_ID}-ab`);
});

test('parses what it formats, and the spec example', () => {
  const parent = { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 };
  assert.deepEqual(parseTraceparent(formatTraceparent(parent)), parent);
  assert.deepEqual(parseTraceparent(`00-${TRACE_ID}-${SPAN_ID}-00`), { ...parent, traceFlags: 0 });
  assert.equal(isTraceparent(`00-${TRACE_ID}-${SPAN_ID}-01`), true);
});

test('a later version may carry more fields after a dash; version ff is invalid', () => {
  assert.deepEqual(parseTraceparent(`01-${TRACE_ID}-${SPAN_ID}-01-what-comes-next`), { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 });
  assert.deepEqual(parseTraceparent(`cc-${TRACE_ID}-${SPAN_ID}-09`), { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 9 });
  assert.equal(parseTraceparent(`01-${TRACE_ID}-${SPAN_ID}-01x`), undefined);
  assert.equal(parseTraceparent(`ff-${TRACE_ID}-${SPAN_ID}-01`), undefined);
});

test('refuses what the spec says a receiver must ignore', () => {
  const bad = [
    '',
    'hello',
    `00-${TRACE_ID}-${SPAN_ID}-01-extra`, // version 00 has exactly four fields
    `00-${TRACE_ID}-${SPAN_ID}-1`, // flags are two digits
    `00-${TRACE_ID.toUpperCase()}-${SPAN_ID}-01`, // lowercase only
    `00-${TRACE_ID}-${SPAN_ID.toUpperCase().replace('0', 'A')}-01`,
    `00-${'0'.repeat(32)}-${SPAN_ID}-01`, // all-zero trace ID
    `00-${TRACE_ID}-${'0'.repeat(16)}-01`, // all-zero span ID
    `00-${TRACE_ID.slice(1)}-${SPAN_ID}-01x`, // a short trace ID, the length made up elsewhere
    `00_${TRACE_ID}-${SPAN_ID}-01`,
    `00-${TRACE_ID}_${SPAN_ID}-01`,
    `00-${TRACE_ID}-${SPAN_ID}_01`,
    `0g-${TRACE_ID}-${SPAN_ID}-01`,
    `00-${TRACE_ID.slice(0, 31)}z-${SPAN_ID}-01`,
    `00-${TRACE_ID}-${SPAN_ID}-0z`,
  ];
  for (const text of bad) assert.equal(parseTraceparent(text), undefined, text);
  assert.equal(isTraceparent(42), false);
  assert.equal(isTraceparent(undefined), false);
});
