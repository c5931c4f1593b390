import { once } from 'node:events';
import { formatBytes, formatCount, formatDuration } from '../format.js';

export { formatBytes, formatCount, formatDuration };

/**
 * What the CLI writes to stdout: lines, JSON lines and tables. Writes wait for the stream to drain
 * so a fast producer (`range` over a long stream, `tail` of a busy one) never buffers unbounded
 * output in memory, and a reader that went away (`sluice tail … | head -3`) ends the command
 * quietly instead of crashing it with EPIPE.
 */

let stdoutClosed = false;
const closedListeners = new Set<() => void>();

let watching = false;

/** Watches stdout for a closed pipe, from start-up to exit (the last writes may fail after the command). */
export function watchStdout(): void {
  if (watching) return;
  watching = true;
  const onError = (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    stdoutClosed = true;
    for (const listener of closedListeners) listener();
  };
  process.stdout.on('error', onError);
}

/** True once the reader of stdout has gone away: there is no point producing more. */
export function isStdoutClosed(): boolean {
  return stdoutClosed;
}

/** Calls `listener` when stdout's reader goes away; returns the function that unsubscribes. */
export function onStdoutClosed(listener: () => void): () => void {
  closedListeners.add(listener);
  return () => {
    closedListeners.delete(listener);
  };
}

/** Writes one line to stdout, waiting for the pipe to drain when its buffer is full. */
export async function writeLine(text: string): Promise<void> {
  if (stdoutClosed) return;
  if (process.stdout.write(`${text}\n`)) return;
  let unsubscribe = () => {};
  const closed = new Promise<void>((resolve) => (unsubscribe = onStdoutClosed(resolve)));
  try {
    await Promise.race([once(process.stdout, 'drain'), closed]);
  } finally {
    unsubscribe();
  }
}

/** Writes a value as one line of JSON. */
export function writeJson(value: unknown): Promise<void> {
  return writeLine(JSON.stringify(value));
}

/** Writes a message to stderr (notes and progress; never data). */
export function note(text: string): void {
  process.stderr.write(`${text}\n`);
}

/**
 * Lays out rows as aligned columns, two spaces apart, numbers right-aligned.
 * `headers` are printed as given (upper case by convention).
 */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [headers, ...rows];
  const widths = headers.map((_, column) => Math.max(...all.map((row) => (row[column] ?? '').length)));
  const numeric = headers.map((_, column) => rows.length > 0 && rows.every((row) => /^-?[\d.,]+( [KMGT]?i?B)?$|^\?$|^-$/.test(row[column] ?? '')));
  return all
    .map((row) =>
      row
        .map((cell, column) => {
          const width = widths[column] ?? 0;
          const last = column === row.length - 1;
          if (numeric[column]) return cell.padStart(width);
          return last ? cell : cell.padEnd(width);
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** Aligned `key  value` lines. */
export function keyValues(pairs: readonly (readonly [string, string])[]): string {
  const width = Math.max(0, ...pairs.map(([key]) => key.length));
  return pairs.map(([key, value]) => `${key.padEnd(width)}  ${value}`).join('\n');
}

/** An epoch-ms time as ISO-8601 UTC; `-` when there is none. */
export function formatTime(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '-' : new Date(ms).toISOString();
}

