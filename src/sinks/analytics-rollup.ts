import { DECIMAL_RE, sourceValue, type Source } from './sql-mapping.js';
import type { SinkEvent } from './sink.js';

/** A field the rollup reads: where from, and the column it becomes. */
export interface RollupField {
  readonly name: string;
  readonly column: string;
  readonly source: Source;
}

/** The aggregates of one numeric field over the events of a window and group. */
export interface MeasureAggregate {
  /** Events that had a number in the field. */
  count: number;
  sum: number | null;
  min: number | null;
  max: number | null;
}

/** One row of a rollup: a window, a group, and its aggregates. */
export interface RollupRow {
  windowStart: number;
  windowEnd: number;
  /** The group's values, in `groupBy` order ('' for an event without the field). */
  group: string[];
  /** Events in the window and group. */
  count: number;
  measures: MeasureAggregate[];
}

/** The start of the tumbling window of `size` ms that holds `time` (windows start at the epoch). */
export function windowStart(time: number, size: number): number {
  return Math.floor(time / size) * size;
}

/** A field's value as a number, or undefined when it holds none (missing, empty, not a number). */
export function numericValue(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && DECIMAL_RE.test(value.trim())) {
    const number = Number(value);
    return Number.isFinite(number) ? number : undefined;
  }
  return undefined;
}

function groupValue(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/**
 * Rolls events up per tumbling window (by event time) and group: count, and count / sum / min /
 * max of each measure. Rows come out sorted by window, then group, so concurrent writers take
 * row locks in the same order.
 */
export function rollUp(events: readonly SinkEvent[], options: { windowMs: number; groupBy: readonly RollupField[]; measures: readonly RollupField[] }): RollupRow[] {
  const rows = new Map<string, RollupRow>();
  for (const event of events) {
    const start = windowStart(event.time, options.windowMs);
    const group = options.groupBy.map((field) => groupValue(sourceValue(event, field.source)));
    const key = JSON.stringify([start, group]);
    let row = rows.get(key);
    if (!row) {
      row = {
        windowStart: start,
        windowEnd: start + options.windowMs,
        group,
        count: 0,
        measures: options.measures.map(() => ({ count: 0, sum: null, min: null, max: null })),
      };
      rows.set(key, row);
    }
    row.count++;
    options.measures.forEach((field, i) => {
      const value = numericValue(sourceValue(event, field.source));
      if (value === undefined) return;
      const aggregate = (row as RollupRow).measures[i] as MeasureAggregate;
      aggregate.count++;
      aggregate.sum = (aggregate.sum ?? 0) + value;
      aggregate.min = aggregate.min === null ? value : Math.min(aggregate.min, value);
      aggregate.max = aggregate.max === null ? value : Math.max(aggregate.max, value);
    });
  }
  return [...rows.values()].sort((a, b) => a.windowStart - b.windowStart || compareGroups(a.group, b.group));
}

function compareGroups(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as string;
    const y = b[i] as string;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
