import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mostDelivered, parsePendingEntries, type PendingEntryInfo } from './group-report.js';

const entry = (id: string, deliveryCount: number, consumer = 'worker-1', idleMs = 100): PendingEntryInfo => ({ id, consumer, idleMs, deliveryCount });

describe('group report', () => {
  test('parsePendingEntries reads the extended XPENDING rows, numbers as numbers', () => {
    const reply = [
      ['1700000000000-0', 'worker-1', 4250, 3],
      ['1700000000001-0', 'worker-2', '12', '1'],
    ];
    assert.deepEqual(parsePendingEntries(reply), [
      { id: '1700000000000-0', consumer: 'worker-1', idleMs: 4250, deliveryCount: 3 },
      { id: '1700000000001-0', consumer: 'worker-2', idleMs: 12, deliveryCount: 1 },
    ]);
    assert.deepEqual(parsePendingEntries([]), []);
    // The summary form (or anything else) is not rows.
    assert.deepEqual(parsePendingEntries([2, '1700000000000-0', '1700000000001-0', [['worker-1', '2']]]), []);
    assert.deepEqual(parsePendingEntries(null), []);
  });

  test('mostDelivered: most deliveries first, ties in ID order, single deliveries left out, at most `top`', () => {
    const entries = [entry('1-0', 2), entry('2-0', 1), entry('3-0', 5), entry('4-0', 2), entry('5-0', 3), entry('6-0', 2)];
    assert.deepEqual(
      mostDelivered(entries, 3).map((e) => [e.id, e.deliveryCount]),
      [
        ['3-0', 5],
        ['5-0', 3],
        ['1-0', 2],
      ],
    );
    assert.deepEqual(mostDelivered(entries, 10).map((e) => e.id), ['3-0', '5-0', '1-0', '4-0', '6-0']);
    assert.deepEqual(mostDelivered([entry('1-0', 1), entry('2-0', 1)], 3), []);
    assert.deepEqual(mostDelivered(entries, 0), []);
    // The input is left as it was (it is the PEL in ID order).
    assert.deepEqual(entries.map((e) => e.id), ['1-0', '2-0', '3-0', '4-0', '5-0', '6-0']);
  });
});
