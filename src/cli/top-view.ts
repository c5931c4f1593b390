import type { AlertFinding } from '../flow/alerts.js';
import type { Overview, OverviewGroup, OverviewStream } from '../observe/overview.js';
import { formatDuration } from './output.js';

/**
 * What `sluice top` draws: an overview as lines fitted to a terminal of a given size. Pure (no
 * I/O, no clock but `now`), so every layout decision is tested without a terminal.
 */

export interface TopViewOptions {
  /** Terminal columns: every line fits (long names are cut with `…`, columns dropped when narrow). */
  width: number;
  /** Terminal rows: the frame has at most this many lines (the rest is scrolled to). Unbounded when absent. */
  height?: number;
  /** Table rows scrolled past (↓ / PgDn). @default 0 */
  offset?: number;
  /** The refresh interval, as typed (`1s`), shown in the title. */
  interval?: string;
  /** The last refresh failed: this message is shown above the (older) figures. */
  error?: string;
  /** Colour alert rows (ANSI): red for failing, yellow for warnings. @default false */
  color?: boolean;
  /** Keys to mention in the title (`q quits`): only on an interactive terminal. @default false */
  keys?: boolean;
}

/** A frame, and how far it can scroll (for the key handler). */
export interface TopFrame {
  lines: string[];
  /** Table rows in all (streams and groups). */
  rows: number;
  /** Table rows the frame has room for. */
  visible: number;
  /** The offset actually used (clamped to what can scroll). */
  offset: number;
}

interface Column {
  title: string;
  width: number;
  /** The lower, the sooner it is dropped on a narrow terminal. */
  keep: number;
  stream(s: OverviewStream): string;
  group(g: OverviewGroup): string;
}

/** Not applicable to this row (a stream has no lag of its own). */
const NONE = '';
/** Unknown: not measured yet (a rate on the first read), or Redis cannot tell. */
const UNKNOWN = '-';

const COLUMNS: readonly Column[] = [
  { title: 'LENGTH', width: 8, keep: 9, stream: (s) => compact(s.length), group: () => NONE },
  { title: 'IN/S', width: 7, keep: 8, stream: (s) => rate(s.inRate), group: () => NONE },
  { title: 'OUT/S', width: 7, keep: 6, stream: () => NONE, group: (g) => rate(g.outRate) },
  { title: 'LAG', width: 8, keep: 10, stream: (s) => maxLag(s), group: (g) => (g.lag === null ? UNKNOWN : compact(g.lag)) },
  { title: 'BEHIND', width: 8, keep: 6.5, stream: () => NONE, group: (g) => (g.behindMs === 0 ? NONE : formatDuration(g.behindMs)) },
  { title: 'PENDING', width: 8, keep: 7, stream: () => NONE, group: (g) => compact(g.pending) },
  { title: 'OLDEST PEND', width: 12, keep: 5, stream: () => NONE, group: (g) => (g.oldestPendingAgeMs === null ? UNKNOWN : formatDuration(g.oldestPendingAgeMs)) },
  { title: 'DLQ', width: 6, keep: 4, stream: (s) => compact(s.deadLetters), group: () => NONE },
];

/** The narrowest the name column gets before numeric columns are dropped. */
const MIN_NAME = 16;
/** Left gutter: the alert mark (`!` failing, `*` warning) and a space. */
const GUTTER = 2;
const RED = '\x1b[31m';
const YELLOW = '\x1b[33m';
const BOLD = '\x1b[1m';
const RESET = '\x1b[0m';

/** Draws the overview. */
export function renderTop(overview: Overview, options: TopViewOptions): TopFrame {
  const width = Math.max(20, Math.floor(options.width));
  const color = options.color === true;
  const marks = alertMarks(overview.alerts);

  const head: string[] = [cut(title(overview, options), width), cut(alertLine(overview.alerts), width)];
  if (options.error !== undefined) head.push(cut(`refresh failed: ${options.error} (showing the last figures)`, width));
  head.push('');

  const columns = fitColumns(width);
  const nameWidth = width - GUTTER - columns.reduce((sum, c) => sum + c.width + 1, 0);
  const header = ' '.repeat(GUTTER) + 'STREAM / GROUP'.padEnd(nameWidth).slice(0, nameWidth) + columns.map((c) => ` ${c.title.padStart(c.width)}`).join('');
  head.push(color ? `${BOLD}${header}${RESET}` : header);

  const table: string[] = [];
  for (const stream of overview.streams) {
    const mark = marks.get(stream.name);
    table.push(row(mark, stream.name, columns.map((c) => c.stream(stream)), columns, nameWidth, color));
    for (const group of stream.groups) {
      table.push(row(marks.get(`${stream.name}\u0000${group.name}`), `  ${group.name}`, columns.map((c) => c.group(group)), columns, nameWidth, color));
    }
  }
  if (overview.streams.length === 0) table.push(cut('  no streams on this server', width));

  // Room left for table rows; one line is kept for "more below" when they do not all fit.
  const room = options.height === undefined ? table.length : Math.max(1, Math.floor(options.height) - head.length);
  const visible = table.length > room ? Math.max(1, room - 1) : table.length;
  const offset = Math.min(Math.max(0, options.offset ?? 0), Math.max(0, table.length - visible));
  const shown = table.slice(offset, offset + visible);
  const lines = [...head, ...shown];
  if (table.length > visible) {
    const below = table.length - offset - visible;
    const more = `  rows ${offset + 1}-${offset + visible} of ${table.length}${below > 0 ? ` (${below} more below)` : ''}${options.keys ? ': ↑ ↓ PgUp PgDn to scroll' : ''}`;
    lines.push(cut(more, width));
  }
  return { lines, rows: table.length, visible, offset };
}

function title(overview: Overview, options: TopViewOptions): string {
  const groups = overview.streams.reduce((sum, s) => sum + s.groups.length, 0);
  const streams = `${overview.streams.length} stream${overview.streams.length === 1 ? '' : 's'}${overview.truncated ? ' (the first, by name)' : ''}`;
  const parts = ['sluice top', streams, `${groups} group${groups === 1 ? '' : 's'}`, new Date(overview.at).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z')];
  if (options.interval !== undefined) parts.push(`every ${options.interval}`);
  if (options.keys) parts.push('q quits');
  return parts.join(' · ');
}

function alertLine(alerts: readonly AlertFinding[]): string {
  if (alerts.length === 0) return 'alerts: none';
  const fails = alerts.filter((a) => a.severity === 'fail');
  const first = fails[0] ?? alerts[0];
  const where = first ? `${first.stream}${first.group ? `/${first.group}` : ''} ${first.kind}` : '';
  return `alerts: ${fails.length} failing (!), ${alerts.length - fails.length} warning${alerts.length - fails.length === 1 ? '' : 's'} (*); first: ${where}`;
}

/** The most severe finding per stream and per stream/group. */
function alertMarks(alerts: readonly AlertFinding[]): Map<string, 'fail' | 'warn'> {
  const marks = new Map<string, 'fail' | 'warn'>();
  for (const finding of alerts) {
    const keys = finding.group === undefined ? [finding.stream] : [finding.stream, `${finding.stream}\u0000${finding.group}`];
    for (const key of keys) if (marks.get(key) !== 'fail') marks.set(key, finding.severity);
  }
  return marks;
}

/** The columns that fit beside a name of at least MIN_NAME, in their order. */
function fitColumns(width: number): Column[] {
  const kept = [...COLUMNS];
  const need = () => GUTTER + MIN_NAME + kept.reduce((sum, c) => sum + c.width + 1, 0);
  while (kept.length > 0 && need() > width) {
    const drop = kept.reduce((low, c) => (c.keep < low.keep ? c : low));
    kept.splice(kept.indexOf(drop), 1);
  }
  return kept;
}

function row(mark: 'fail' | 'warn' | undefined, name: string, cells: string[], columns: Column[], nameWidth: number, color: boolean): string {
  const gutter = mark === 'fail' ? '! ' : mark === 'warn' ? '* ' : '  ';
  const line = gutter + cut(name, nameWidth).padEnd(nameWidth) + cells.map((cell, i) => ` ${cut(cell, (columns[i] as Column).width).padStart((columns[i] as Column).width)}`).join('');
  if (!color || mark === undefined) return line;
  return `${mark === 'fail' ? RED : YELLOW}${line}${RESET}`;
}

/** Cuts text to `width` characters, ending with `…` when it was longer. */
export function cut(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  if (width <= 1) return chars.slice(0, width).join('');
  return `${chars.slice(0, width - 1).join('')}…`;
}

/** A count in at most 8 characters: `12,345`, `1.23M`, `45.6G`. */
export function compact(n: number): string {
  if (n < 1_000_000) return Math.round(n).toLocaleString('en-US');
  if (n < 1e9) return `${(n / 1e6).toFixed(n < 1e7 ? 2 : 1)}M`;
  return `${(n / 1e9).toFixed(n < 1e10 ? 2 : 1)}G`;
}

/** A per-second rate: `0`, `0.5`, `12.3`, `1,234`, `12.3k`; `-` before there are two reads. */
export function rate(n: number | null): string {
  if (n === null) return UNKNOWN;
  if (n === 0) return '0';
  if (n < 99.95) return n.toFixed(1);
  if (n < 10_000) return Math.round(n).toLocaleString('en-US');
  if (n < 1_000_000) return `${(n / 1000).toFixed(1)}k`;
  return `${(n / 1e6).toFixed(1)}M`;
}

/** On a stream's row: the largest lag of its groups (of those whose lag Redis can tell). */
function maxLag(stream: OverviewStream): string {
  if (stream.groups.length === 0) return NONE;
  let max: number | null = null;
  for (const group of stream.groups) if (group.lag !== null) max = max === null ? group.lag : Math.max(max, group.lag);
  return max === null ? UNKNOWN : compact(max);
}
