import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Overview, OverviewGroup, OverviewStream } from '../observe/overview.js';
import { compact, cut, rate, renderTop } from './top-view.js';

const AT = Date.UTC(2026, 10, 25, 10, 0, 0);

function group(name: string, over: Partial<OverviewGroup> = {}): OverviewGroup {
  return { name, lag: 0, behindMs: 0, pending: 0, oldestPendingAgeMs: null, consumers: [], lastDeliveredId: '0-0', entriesRead: 0, outRate: 0, ...over };
}

function stream(name: string, over: Partial<OverviewStream> = {}): OverviewStream {
  return {
    name,
    length: 0,
    firstId: null,
    lastId: null,
    oldestAgeMs: null,
    newestAgeMs: null,
    memoryBytes: null,
    entriesAdded: 0,
    inRate: 0,
    deadLetters: 0,
    heldBack: null,
    groups: [],
    ...over,
  };
}

function overview(streams: OverviewStream[], over: Partial<Overview> = {}): Overview {
  return { at: AT, streams, alerts: [], truncated: false, ...over };
}

const orders = stream('events:orders', {
  length: 12_345,
  inRate: 120.5,
  deadLetters: 3,
  groups: [
    group('billing', { lag: 240, behindMs: 95_000, pending: 12, oldestPendingAgeMs: 4200, outRate: 118.25 }),
    group('analytics', { lag: null, pending: 0, outRate: null }),
  ],
});
const clicks = stream('events:clicks', { length: 2_500_000, inRate: 15_400, groups: [] });

/** Cells of a line, split on runs of two or more spaces. */
function cells(line: string): string[] {
  return line.trim().split(/ {2,}/);
}

describe('renderTop', () => {
  test('streams then their groups, with units, under a header', () => {
    const { lines, rows } = renderTop(overview([clicks, orders]), { width: 110, interval: '1s' });
    assert.equal(lines[0], 'sluice top · 2 streams · 2 groups · 2026-11-25 10:00:00Z · every 1s');
    assert.equal(lines[1], 'alerts: none');
    assert.equal(lines[2], '');
    assert.deepEqual(cells(lines[3] as string), ['STREAM / GROUP', 'LENGTH', 'IN/S', 'OUT/S', 'LAG', 'BEHIND', 'PENDING', 'OLDEST PEND', 'DLQ']);
    assert.equal(rows, 4);
    assert.deepEqual(cells(lines[4] as string), ['events:clicks', '2.50M', '15.4k', '0']);
    assert.deepEqual(cells(lines[5] as string), ['events:orders', '12,345', '121', '240', '3']);
    assert.deepEqual(cells(lines[6] as string), ['billing', '118', '240', '1m35s', '12', '4.20s']);
    assert.ok((lines[6] as string).startsWith('    billing'), 'a group is indented under its stream');
    assert.deepEqual(cells(lines[7] as string), ['analytics', '-', '-', '0', '-']);
    assert.equal(lines.length, 8);
    // Numbers end in their column: right-aligned under the header's titles.
    const header = lines[3] as string;
    assert.equal((lines[5] as string).indexOf('12,345') + '12,345'.length, header.indexOf('LENGTH') + 'LENGTH'.length);
    assert.equal((lines[6] as string).indexOf('4.20s') + '4.20s'.length, header.indexOf('OLDEST PEND') + 'OLDEST PEND'.length);
    assert.equal((lines[6] as string).indexOf('1m35s') + '1m35s'.length, header.indexOf('BEHIND') + 'BEHIND'.length);
    for (const line of lines) assert.ok(line.length <= 110, line);
  });

  test('a narrow terminal drops the least useful columns and cuts long names with …', () => {
    const long = stream(`events:${'x'.repeat(80)}`, { length: 7, groups: [group('billing', { lag: 9 })] });
    const { lines } = renderTop(overview([long]), { width: 40 });
    for (const line of lines) assert.ok([...line].length <= 40, `${line.length}: ${line}`);
    const header = lines[3] as string;
    assert.match(header, /LAG/);
    assert.match(header, /LENGTH/);
    assert.doesNotMatch(header, /OLDEST PEND|DLQ|PENDING|BEHIND/);
    assert.match(lines[4] as string, /^ {2}events:x+… +7 +9$/);
    assert.match(lines[0] as string, /…$/, 'the title is cut too');
  });

  test('every line fits, whatever the width', () => {
    const many = overview([orders, clicks, stream('a'.repeat(300), { groups: [group('g'.repeat(300))] })], {
      alerts: [{ stream: orders.name, group: 'billing', kind: 'lag-growing', severity: 'warn', message: 'm' }],
    });
    for (let width = 20; width <= 200; width += 7) {
      for (const line of renderTop(many, { width, keys: true, error: 'Redis is unreachable' }).lines) {
        assert.ok([...line].length <= width, `width ${width}: ${line}`);
      }
    }
  });

  test('a short terminal shows what fits, says how many rows are below, and scrolls', () => {
    const streams = Array.from({ length: 10 }, (_, i) => stream(`s${i}`, { length: i }));
    const first = renderTop(overview(streams), { width: 80, height: 9, keys: true });
    // 4 lines of head, 4 rows, 1 line saying there is more.
    assert.equal(first.lines.length, 9);
    assert.equal(first.visible, 4);
    assert.deepEqual(first.lines.slice(4, 8).map((l) => cells(l)[0]), ['s0', 's1', 's2', 's3']);
    assert.equal(first.lines[8], '  rows 1-4 of 10 (6 more below): ↑ ↓ PgUp PgDn to scroll');

    const scrolled = renderTop(overview(streams), { width: 80, height: 9, offset: 3 });
    assert.deepEqual(scrolled.lines.slice(4, 8).map((l) => cells(l)[0]), ['s3', 's4', 's5', 's6']);
    assert.equal(scrolled.lines[8], '  rows 4-7 of 10 (3 more below)');

    const past = renderTop(overview(streams), { width: 80, height: 9, offset: 99 });
    assert.equal(past.offset, 6, 'scrolling stops at the last full page');
    assert.equal(past.lines[8], '  rows 7-10 of 10');

    const tall = renderTop(overview(streams), { width: 80, height: 100 });
    assert.equal(tall.lines.length, 14, 'no "more" line when everything fits');
  });

  test('alerts: a summary line, rows marked ! (failing) or * (warning), coloured on request', () => {
    const view = overview([clicks, orders], {
      alerts: [
        { stream: 'events:clicks', kind: 'length', severity: 'warn', message: 'long' },
        { stream: 'events:orders', group: 'billing', kind: 'no-progress', severity: 'fail', message: 'stuck' },
        { stream: 'events:orders', group: 'billing', kind: 'lag-growing', severity: 'warn', message: 'growing' },
      ],
    });
    const plain = renderTop(view, { width: 110 }).lines;
    assert.equal(plain[1], 'alerts: 1 failing (!), 2 warnings (*); first: events:orders/billing no-progress');
    assert.match(plain[4] as string, /^\* events:clicks/);
    assert.match(plain[5] as string, /^! events:orders/);
    assert.match(plain[6] as string, /^! {3}billing/);
    assert.match(plain[7] as string, /^ {4}analytics/);
    const coloured = renderTop(view, { width: 110, color: true }).lines;
    assert.equal(coloured[4], `\x1b[33m${plain[4]}\x1b[0m`);
    assert.equal(coloured[5], `\x1b[31m${plain[5]}\x1b[0m`);
    assert.equal(coloured[7], plain[7], 'rows without alerts are not coloured');
  });

  test('no streams, a truncated read, a failed refresh', () => {
    assert.deepEqual(renderTop(overview([]), { width: 60 }).lines.slice(4), ['  no streams on this server']);
    assert.match(renderTop(overview([clicks], { truncated: true }), { width: 120 }).lines[0] as string, /1 stream \(the first, by name\)/);
    const failed = renderTop(overview([clicks]), { width: 120, error: 'Redis is unreachable' }).lines;
    assert.equal(failed[2], 'refresh failed: Redis is unreachable (showing the last figures)');
  });
});

describe('units', () => {
  test('compact counts', () => {
    assert.deepEqual([0, 999, 12_345, 999_999, 1_000_000, 12_345_678, 4_500_000_000, 45_000_000_000].map(compact), [
      '0',
      '999',
      '12,345',
      '999,999',
      '1.00M',
      '12.3M',
      '4.50G',
      '45.0G',
    ]);
  });

  test('rates', () => {
    assert.deepEqual([null, 0, 0.5, 12.34, 99.96, 1234.4, 12_345, 2_500_000].map(rate), ['-', '0', '0.5', '12.3', '100', '1,234', '12.3k', '2.5M']);
  });

  test('cut', () => {
    assert.equal(cut('events:orders', 20), 'events:orders');
    assert.equal(cut('events:orders', 8), 'events:…');
    assert.equal(cut('événements', 4), 'évé…');
  });
});
