import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DeadLetter, GroupsReport } from '../../index.js';
import { renderSummary } from './consume.js';
import { renderDeadLetters } from './dlq.js';
import { renderGroups } from './groups.js';

describe('consumer-group command output', () => {
  test('consume summary: one line with every count', () => {
    const summary = { stream: 'events:orders', group: 'billing', consumer: 'pod-1', processed: 1200, failedAttempts: 1, retried: 0, deadLettered: 1, reclaimed: 3, seconds: 4.5 };
    assert.equal(
      renderSummary({ ...summary, stoppedBy: 'idle' }),
      'processed 1,200 events from events:orders (group billing, consumer pod-1) in 4.50 s: 1 failed attempt, 0 retried, 1 dead-lettered, 3 reclaimed; the group is idle',
    );
    assert.match(renderSummary({ ...summary, processed: 1, stoppedBy: 'SIGTERM' }), /^processed 1 event from .*; stopped by SIGTERM$/);
  });

  test('groups: lag `?` when Redis cannot tell, `-` when nothing is pending; a stream without groups says so', () => {
    const report: GroupsReport = {
      stream: 'events:orders',
      exists: true,
      groups: [
        {
          name: 'billing',
          consumers: [{ name: 'pod-1', pending: 2, idleMs: 850 }],
          pending: 2,
          lag: null,
          lastDeliveredId: '1700000000002-0',
          oldestPending: { id: '1700000000001-0', consumer: 'pod-1', idleMs: 245_000, deliveryCount: 1 },
          mostDelivered: [],
          sampled: 2,
        },
        { name: 'analytics', consumers: [], pending: 0, lag: 12, lastDeliveredId: '0-0', oldestPending: null, mostDelivered: [], sampled: 0 },
      ],
    };
    assert.equal(
      renderGroups(report),
      [
        'GROUP      CONSUMERS  PENDING  LAG  LAST DELIVERED   OLDEST PENDING  MAX DELIVERIES',
        'billing            1        2    ?  1700000000002-0  4m05s                        1',
        'analytics          0        0   12  0-0              -                            -',
        '',
        'GROUP    CONSUMER  PENDING  IDLE   INACTIVE',
        'billing  pod-1           2  850ms         ?',
        '',
        'GROUP    PENDING ENTRY  ID               CONSUMER  DELIVERIES  IDLE',
        'billing  oldest         1700000000001-0  pod-1              1  4m05s',
      ].join('\n'),
    );
    assert.equal(renderGroups({ stream: 'events:orders', exists: true, groups: [] }), 'stream events:orders has no consumer groups');
  });

  test('dlq list: metadata by its stored field name, error cut, rows cut to the terminal', () => {
    const letter: DeadLetter = {
      id: '1700000005000-0',
      time: 1700000005000,
      originalId: '1700000000000-0',
      stream: 'events:orders',
      group: 'billing',
      consumer: 'pod-1',
      reason: 'max-deliveries',
      error: 'connect ECONNREFUSED 10.0.0.7:5432\n    at TCPConnectWrap.afterConnect',
      deliveryCount: 5,
      fields: { order_id: '12345' },
      meta: { key: 'customer-67890', traceparent: '00-abc-def-01', custom: 'x' },
    };
    const [header, row] = renderDeadLetters([letter, { ...letter, deliveryCount: null }]).split('\n');
    assert.match(header as string, /^ID\s+TIME\s+ORIGINAL ID\s+GROUP\s+REASON\s+DELIVERIES\s+ERROR\s+FIELDS$/);
    assert.equal(
      row,
      '1700000005000-0  2023-11-14T22:13:25.000Z  1700000000000-0  billing  max-deliveries           5  connect ECONNREFUSED 10.0.0.7:5432 at T…  order_id=12345 $key=customer-67890 $tp=00-abc-def-01 $custom=x',
    );
    assert.match(renderDeadLetters([{ ...letter, deliveryCount: null }]), /max-deliveries\s+\?\s+connect/);
    for (const line of renderDeadLetters([letter], 60).split('\n')) assert.ok(line.length <= 59, line);
  });
});
