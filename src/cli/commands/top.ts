import type { Command } from 'commander';
import type { Overview } from '../../observe/overview.js';
import { parseDuration } from '../../stream/time.js';
import { globalOptions, withSluice } from '../context.js';
import { duration, nonEmpty, wholeNumber } from '../options.js';
import { writeJson, writeLine } from '../output.js';
import { renderTop } from '../top-view.js';

interface TopFlags {
  interval: string;
  match?: string;
  maxStreams?: number;
}

/** Alternate screen on, cursor hidden; and back. */
const ENTER = '\x1b[?1049h\x1b[?25l';
const LEAVE = '\x1b[?25h\x1b[?1049l';
const HOME = '\x1b[H';
const CLEAR_LINE = '\x1b[K';
const CLEAR_BELOW = '\x1b[J';

/** One key: an escape sequence (CSI or SS3), or one character. */
// eslint-disable-next-line no-control-regex -- terminal escape sequences start with ESC
const KEY = /\x1b\[[0-9;]*[A-Za-z~]|\x1bO[A-Za-z]|[\s\S]/g;

/** How far a key scrolls the table; undefined for a key that does not scroll. */
function moveOf(key: string, page: number): number | undefined {
  switch (key) {
    case '\x1b[A':
    case '\x1bOA':
    case 'k':
      return -1;
    case '\x1b[B':
    case '\x1bOB':
    case 'j':
      return 1;
    case '\x1b[5~':
      return -page;
    case '\x1b[6~':
    case ' ':
      return page;
    case '\x1b[H':
    case '\x1bOH':
    case '\x1b[1~':
    case 'g':
      return -Infinity;
    case '\x1b[F':
    case '\x1bOF':
    case '\x1b[4~':
    case 'G':
      return Infinity;
    default:
      return undefined;
  }
}

export function registerTop(program: Command): void {
  program
    .command('top')
    .description('live view of streams and groups: length, in/out rates, lag, pending, oldest pending age; refreshed in place, q quits')
    .option('--interval <duration>', 'time between refreshes', duration('--interval', 100), '1s')
    .option('--match <pattern>', 'only the streams whose names match this pattern (SCAN MATCH), e.g. events:*', nonEmpty('--match'))
    .option('--max-streams <n>', 'read at most this many streams, the first by name (default: 1000)', wholeNumber('--max-streams', 1))
    .addHelpText(
      'after',
      `
On a terminal, the view takes the whole screen and refreshes every --interval; q or Ctrl-C quits,
↑ ↓ PgUp PgDn Home End scroll. Rows marked ! have a failing alert, * a warning (the alert kinds of
"sluice doctor"; lag growth and no progress need a few seconds of history). A stream's LAG is the
largest of its groups'; - means not known yet (rates need two reads).

When stdout is not a terminal, it prints one frame (two reads --interval apart, so the rates are
filled) and exits; with --json, the overview as one JSON object.

Examples:
  $ sluice top
  $ sluice top --match 'events:*' --interval 2s
  $ sluice top --json | jq '.streams[] | {name, inRate}'`,
    )
    .action(async (flags: TopFlags, command: Command) => {
      const globals = globalOptions(command);
      const intervalMs = parseDuration(flags.interval, '--interval');
      const interactive = process.stdout.isTTY === true && !globals.json;
      await withSluice(globals, async (sluice) => {
        const { OverviewReader } = await import('../../observe/overview.js');
        const reader = new OverviewReader({ sluice, ttl: 0, ...(flags.match === undefined ? {} : { match: flags.match }), ...(flags.maxStreams === undefined ? {} : { maxStreams: flags.maxStreams }) });
        if (interactive) {
          await runInteractive(() => reader.read(), intervalMs, flags.interval);
          return;
        }
        await reader.read();
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
        const overview = await reader.read();
        if (globals.json) {
          await writeJson(overview);
          return;
        }
        const width = process.stdout.columns || Number(process.env.COLUMNS) || 120;
        for (const line of renderTop(overview, { width, interval: flags.interval }).lines) await writeLine(line.trimEnd());
      });
    });
}

/**
 * The full-screen loop: a frame per interval (and on resize or a scroll key), until q, Ctrl-C or
 * a signal. The terminal is always given back as it was: main screen, cursor shown, cooked mode.
 */
async function runInteractive(read: () => Promise<Overview>, intervalMs: number, interval: string): Promise<void> {
  const out = process.stdout;
  const stdin = process.stdin;
  let overview: Overview | undefined;
  let error: string | undefined;
  let offset = 0;
  let page = 1;
  let rows = 0;
  let quit!: () => void;
  const stopped = new Promise<void>((resolve) => (quit = resolve));
  let wake: (() => void) | undefined;

  const draw = () => {
    const width = out.columns || 80;
    const height = out.rows || 24;
    if (overview === undefined) {
      out.write(`${HOME}${error === undefined ? 'reading the overview…' : `refresh failed: ${error}`}${CLEAR_LINE}${CLEAR_BELOW}`);
      return;
    }
    const frame = renderTop(overview, { width, height, offset, interval, color: true, keys: true, ...(error === undefined ? {} : { error }) });
    offset = frame.offset;
    page = Math.max(1, frame.visible);
    rows = frame.rows;
    out.write(`${HOME}${frame.lines.map((line) => `${line}${CLEAR_LINE}`).join('\r\n')}${CLEAR_BELOW}`);
  };

  const onKey = (data: Buffer | string) => {
    // One chunk may hold several keys (a held arrow key): each escape sequence is one key.
    for (const key of data.toString().match(KEY) ?? []) {
      // Raw mode: Ctrl-C and Ctrl-D arrive as bytes, not as signals.
      if (key === 'q' || key === 'Q' || key === '\x03' || key === '\x04') return quit();
      const move = moveOf(key, page);
      if (move === undefined) continue;
      offset = Math.min(Math.max(0, offset + move), Math.max(0, rows - 1));
    }
    draw();
  };
  const onSignal = () => quit();
  const restore = () => {
    out.write(LEAVE);
  };

  out.write(ENTER);
  process.on('exit', restore);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  out.on('resize', draw);
  if (stdin.isTTY) stdin.setRawMode(true);
  stdin.on('data', onKey);
  stdin.resume();
  let stopping = false;
  void stopped.then(() => {
    stopping = true;
    wake?.();
  });
  try {
    draw();
    while (!stopping) {
      try {
        overview = await read();
        error = undefined;
      } catch (failure) {
        error = failure instanceof Error ? failure.message : String(failure);
      }
      if (stopping) break;
      draw();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    stdin.off('data', onKey);
    if (stdin.isTTY) stdin.setRawMode(false);
    stdin.pause();
    out.off('resize', draw);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', restore);
    restore();
  }
}
