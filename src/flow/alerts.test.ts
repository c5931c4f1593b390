import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidOptionError } from '../errors.js';
import { alertFindings, DEFAULT_MAX_LENGTH, resolveThresholds, snapshotFindings, type GroupSnapshot, type StreamSnapshot } from './alerts.js';

const STREAM = 'events:orders';

function group(overrides: Partial<GroupSnapshot> & { group: string }): GroupSnapshot {
  return { lag: 0, exact: true, pending: 0, lastDeliveredId: '1700000000000-0', ...overrides };
}

function snapshot(at: number, overrides: Partial<StreamSnapshot> = {}): StreamSnapshot {
  return { stream: STREAM, at, length: 100, groups: [], ...overrides };
}

describe('alerts', () => {
  test('thresholds: maxLength defaults to 1,000,000 and must be a whole number ≥ 0', () => {
    assert.equal(DEFAULT_MAX_LENGTH, 1_000_000);
    assert.deepEqual(resolveThresholds(), { maxLength: 1_000_000 });
    assert.deepEqual(resolveThresholds({ maxLength: 0 }), { maxLength: 0 });
    assert.throws(() => resolveThresholds({ maxLength: -1 }), InvalidOptionError);
    assert.throws(() => resolveThresholds({ maxLength: 1.5 }), /thresholds\.maxLength/);
  });

  test('length: only over the threshold (strictly), a warning that says how to bound the stream', () => {
    assert.deepEqual(snapshotFindings(snapshot(0, { length: 1_000_000 })), []);
    const [finding, ...rest] = snapshotFindings(snapshot(0, { length: 1_000_001 }));
    assert.deepEqual(rest, []);
    assert.equal(finding?.kind, 'length');
    assert.equal(finding?.severity, 'warn');
    assert.equal(finding?.stream, STREAM);
    assert.equal(finding?.group, undefined);
    assert.match(finding?.message ?? '', /holds 1,000,001 entries, over the threshold of 1,000,000: bound it with retention/);
    assert.match(finding?.message ?? '', /sluice trim events:orders --max-len N --respect-groups/);
    assert.equal(snapshotFindings(snapshot(0, { length: 11 }), { maxLength: 10 }).length, 1);
  });

  test('retention held back: an informational warning naming the group, the entries and their age', () => {
    const heldBack = { group: 'billing', oldestNeededId: '1700000000000-0', ageMs: 5 * 60_000, entries: 1234 };
    const findings = snapshotFindings(snapshot(0, { heldBack }));
    assert.equal(findings.length, 1);
    assert.deepEqual({ ...findings[0], message: undefined }, { stream: STREAM, group: 'billing', kind: 'retention-held-back', severity: 'warn', message: undefined });
    assert.match(findings[0]?.message ?? '', /group billing holds retention of events:orders back: 1,234 entries kept .*the oldest \(1700000000000-0\) 5m00s old/);
    assert.match(findings[0]?.message ?? '', /sluice group delete events:orders --group billing/);
  });

  test('a group whose lag rose between the snapshots: lag-growing, with the rate', () => {
    const before = snapshot(0, { groups: [group({ group: 'billing', lag: 10, lastDeliveredId: '1-0' })] });
    const after = snapshot(2000, { groups: [group({ group: 'billing', lag: 250, lastDeliveredId: '2-0' })] });
    const findings = alertFindings(before, after);
    assert.deepEqual(findings.map((f) => [f.kind, f.group, f.severity]), [['lag-growing', 'billing', 'warn']]);
    assert.match(findings[0]?.message ?? '', /lag of group billing on events:orders grew from 10 to 250 entries in 2\.00s \(\+120\/s\): .*run more consumers/);
    // Falling or steady lag is fine; an unknown lag is never compared.
    assert.deepEqual(alertFindings(after, snapshot(3000, { groups: [group({ group: 'billing', lag: 5, lastDeliveredId: '3-0' })] })), []);
    assert.deepEqual(alertFindings(snapshot(0, { groups: [group({ group: 'billing', lag: null, lastDeliveredId: '1-0' })] }), after), []);
  });

  test('a lower-bound lag is shown as ≥ N', () => {
    const before = snapshot(0, { groups: [group({ group: 'billing', lag: 5, lastDeliveredId: '1-0' })] });
    const after = snapshot(1000, { groups: [group({ group: 'billing', lag: 10_000, exact: false, lastDeliveredId: '2-0' })] });
    assert.match(alertFindings(before, after)[0]?.message ?? '', /grew from 5 to ≥ 10,000 entries/);
  });

  test('no progress with undelivered entries: fail; with pending entries only: warn', () => {
    const stuck = group({ group: 'billing', lag: 3, pending: 0, lastDeliveredId: '5-0' });
    const findings = alertFindings(snapshot(0, { groups: [stuck] }), snapshot(1000, { groups: [{ ...stuck }] }));
    assert.deepEqual(findings.map((f) => [f.kind, f.group, f.severity]), [['no-progress', 'billing', 'fail']]);
    assert.match(findings[0]?.message ?? '', /group billing on events:orders made no progress in 1\.00s: 3 undelivered, 0 pending, last delivered 5-0; check that its consumers are running/);

    const holding = group({ group: 'billing', lag: 0, pending: 2, lastDeliveredId: '5-0' });
    const pendingOnly = alertFindings(snapshot(0, { groups: [holding] }), snapshot(1000, { groups: [{ ...holding }] }));
    assert.deepEqual(pendingOnly.map((f) => [f.kind, f.severity]), [['no-progress', 'warn']]);
    assert.match(pendingOnly[0]?.message ?? '', /2 pending.*without acknowledging them.*sluice groups events:orders/);
  });

  test('progress is a new last-delivered ID, a changed pending count or a changed entries-read; idle groups are fine', () => {
    const base = group({ group: 'billing', lag: 3, pending: 2, lastDeliveredId: '5-0', entriesRead: 5 });
    const check = (after: Partial<GroupSnapshot>) => alertFindings(snapshot(0, { groups: [base] }), snapshot(1000, { groups: [{ ...base, ...after }] }));
    assert.deepEqual(check({ lastDeliveredId: '6-0' }), []);
    assert.deepEqual(check({ pending: 1 }), []);
    assert.deepEqual(check({ entriesRead: 6 }), []);
    assert.equal(check({}).length, 1);
    // Nothing to deliver and nothing pending: an idle group is not stuck.
    const idle = group({ group: 'analytics' });
    assert.deepEqual(alertFindings(snapshot(0, { groups: [idle] }), snapshot(1000, { groups: [idle] })), []);
  });

  test('a group present in one snapshot only is not compared', () => {
    const stuck = group({ group: 'billing', lag: 3 });
    assert.deepEqual(alertFindings(snapshot(0), snapshot(1000, { groups: [stuck] })), []);
    assert.deepEqual(alertFindings(snapshot(0, { groups: [stuck] }), snapshot(1000)), []);
  });

  test('order: length, then each group (lag, then progress), then retention held back', () => {
    const heldBack = { group: 'billing', oldestNeededId: '1-0', ageMs: 1000, entries: 7 };
    const before = snapshot(0, { length: 50, groups: [group({ group: 'billing', lag: 1 }), group({ group: 'audit', lag: 0, pending: 1 })] });
    const after = snapshot(1000, { length: 60, heldBack, groups: [group({ group: 'billing', lag: 11 }), group({ group: 'audit', lag: 0, pending: 1 })] });
    assert.deepEqual(
      alertFindings(before, after, { maxLength: 10 }).map((f) => [f.kind, f.group ?? '-', f.severity]),
      [
        ['length', '-', 'warn'],
        ['lag-growing', 'billing', 'warn'],
        ['no-progress', 'billing', 'fail'],
        ['no-progress', 'audit', 'warn'],
        ['retention-held-back', 'billing', 'warn'],
      ],
    );
  });
});
