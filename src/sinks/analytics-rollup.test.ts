import assert from 'node:assert/strict';
import { test } from 'node:test';
import { numericValue, rollUp, windowStart, type RollupField } from './analytics-rollup.js';
import type { SinkEvent } from './sink.js';
import { parseSource } from './sql-mapping.js';

const field = (name: string): RollupField => ({ name, column: name.replace(/\./g, '_'), source: parseSource(name, name) });

test('tumbling windows start at multiples of their length since the epoch', () => {
  assert.equal(windowStart(Date.UTC(2026, 0, 1, 10, 0, 59, 999), 60_000), Date.UTC(2026, 0, 1, 10, 0));
  assert.equal(windowStart(Date.UTC(2026, 0, 1, 10, 1), 60_000), Date.UTC(2026, 0, 1, 10, 1));
  assert.equal(windowStart(Date.UTC(2026, 0, 1, 10, 7), 5 * 60_000), Date.UTC(2026, 0, 1, 10, 5));
});

test('numbers: numeric strings and finite numbers; anything else is no value', () => {
  assert.equal(numericValue('99.99'), 99.99);
  assert.equal(numericValue(' -1 '), -1);
  assert.equal(numericValue(3), 3);
  for (const none of ['', 'n/a', '0x10', 'Infinity', NaN, null, undefined, true, {}]) assert.equal(numericValue(none), undefined);
});

test('rows per window and group, sorted, with count and count/sum/min/max per measure', () => {
  const at = (minute: number, second: number) => Date.UTC(2026, 0, 1, 10, minute, second);
  const event = (time: number, fields: Record<string, string>): SinkEvent => ({ stream: 's', id: `${time}-0`, time, fields });
  const rows = rollUp(
    [
      event(at(0, 5), { status: 'paid', amount: '10' }),
      event(at(0, 50), { status: 'paid', amount: '2.5' }),
      event(at(0, 30), { status: 'pending', amount: 'n/a' }),
      event(at(1, 0), { status: 'paid', amount: '4' }),
      event(at(0, 40), { amount: '1' }),
    ],
    { windowMs: 60_000, groupBy: [field('status')], measures: [field('amount')] },
  );
  assert.deepEqual(
    rows.map((r) => [new Date(r.windowStart).toISOString().slice(11, 16), r.group, r.count, r.measures[0]]),
    [
      ['10:00', [''], 1, { count: 1, sum: 1, min: 1, max: 1 }],
      ['10:00', ['paid'], 2, { count: 2, sum: 12.5, min: 2.5, max: 10 }],
      ['10:00', ['pending'], 1, { count: 0, sum: null, min: null, max: null }],
      ['10:01', ['paid'], 1, { count: 1, sum: 4, min: 4, max: 4 }],
    ],
  );
  assert.equal(rows[0]?.windowEnd, at(1, 0));
});
