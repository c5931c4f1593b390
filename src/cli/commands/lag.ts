import type { Command } from 'commander';
import { RedisServerError } from '../../errors.js';
import { groupLags, groupsBehindMs, type GroupLag } from '../../flow/lag.js';
import type { RedisConnection } from '../../redis/connection.js';
import { parseDuration } from '../../stream/time.js';
import { globalOptions, withSluice } from '../context.js';
import { duration, streamKey, UsageError } from '../options.js';
import { formatCount, formatDuration, formatTime, table, writeJson, writeLine } from '../output.js';
import { untilStopped } from '../signals.js';

interface LagFlags {
  watch?: boolean;
  interval?: string;
}

/** The lags of one stream's groups. */
export interface StreamLags {
  stream: string;
  /** False when the key does not exist (only reported for a stream named on the command line). */
  exists: boolean;
  groups: GroupBehind[];
}

/** A group's lag, and how far behind it is in time: the age of its oldest undelivered entry (0 when it has none). */
export type GroupBehind = GroupLag & { behindMs: number };

/** What `sluice lag --json` prints (once, or once per refresh with --watch). */
export interface LagReport {
  /** When the lags were read (epoch ms). */
  time: number;
  streams: StreamLags[];
}

/** Streams read at once: quick on a server with many streams, bounded. */
const CONCURRENCY = 16;

export function registerLag(program: Command): void {
  program
    .command('lag')
    .description('show how far each consumer group is behind: lag, pending, last delivered ID; --watch refreshes until Ctrl-C')
    .argument('[stream]', 'stream name, e.g. events:orders (default: every stream with consumer groups)', streamKey)
    .option('--watch', 'refresh every --interval until Ctrl-C (in place on a terminal)')
    .option('--interval <duration>', 'with --watch: time between refreshes (default: 1s)', duration('--interval', 100))
    .addHelpText(
      'after',
      `
LAG is the number of entries not yet delivered to the group, BEHIND the age of the oldest of them
(how far behind the group is in time). Where Redis cannot tell the lag (after
entries were deleted), Sluice counts the entries after the group's last-delivered ID, up to
100,000: a count that stopped there shows as "≥ 100,000" (exact: false in JSON).

Examples:
  $ sluice lag
  $ sluice lag events:orders --watch
  $ sluice lag events:orders --watch --json | jq -c '.streams[].groups[] | {group, lag}'`,
    )
    .action(async (stream: string | undefined, flags: LagFlags, command: Command) => {
      const globals = globalOptions(command);
      if (flags.interval !== undefined && !flags.watch) throw new UsageError('Expected `--interval` to come with `--watch`');
      const intervalMs = parseDuration(flags.interval ?? '1s', '--interval');
      const render = async (report: LagReport) => {
        if (globals.json) await writeJson(report);
        else await writeLine(renderLags(report, stream));
      };
      if (!flags.watch) {
        await withSluice(globals, async (sluice) => render(await readLags(sluice.connection, stream === undefined ? await sluice.streams() : [stream], stream !== undefined)));
        return;
      }
      await untilStopped(async (signal) => {
        await withSluice(globals, async (sluice) => {
          const screen = new Screen(!globals.json && process.stdout.isTTY === true);
          while (!signal.aborted) {
            const report = await readLags(sluice.connection, stream === undefined ? await sluice.streams() : [stream], stream !== undefined);
            if (signal.aborted) break;
            if (globals.json) await writeJson(report);
            else await screen.draw(`every ${flags.interval ?? '1s'}: ${formatTime(report.time)}  (Ctrl-C to stop)\n\n${renderLags(report, stream)}`);
            await sleep(intervalMs, signal);
          }
        });
      });
    });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

/**
 * Redraws a frame in place on a terminal: the cursor goes back up over the previous frame, which
 * is erased. A frame taller than the screen cannot be reached that way: the screen is cleared.
 * Off a terminal, frames follow each other, a blank line apart.
 */
class Screen {
  #lines = 0;
  constructor(private readonly tty: boolean) {}

  async draw(frame: string): Promise<void> {
    // Rows on screen, long lines wrapped: what the cursor must climb to redraw.
    const columns = process.stdout.columns || 80;
    const lines = frame.split('\n').reduce((rows, line) => rows + Math.max(1, Math.ceil(line.length / columns)), 0);
    if (!this.tty) {
      await writeLine(this.#lines > 0 ? `\n${frame}` : frame);
    } else if (this.#lines === 0) {
      await writeLine(frame);
    } else {
      const rows = process.stdout.rows || 24;
      await writeLine(`${this.#lines < rows ? `\x1b[${this.#lines}F\x1b[J` : '\x1b[H\x1b[2J'}${frame}`);
    }
    this.#lines = lines;
  }
}

/**
 * The lags of the given streams' groups. Streams without groups are left out, unless `named`
 * (the stream was given on the command line: its absence is worth saying).
 */
export async function readLags(conn: RedisConnection, names: readonly string[], named: boolean): Promise<LagReport> {
  const time = Date.now();
  const streams = new Array<StreamLags | undefined>(names.length);
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const at = next++;
      const stream = names[at] as string;
      const type = named ? await conn.command<string>(['TYPE', stream]) : 'stream';
      if (type !== 'none' && type !== 'stream') throw new RedisServerError('WRONGTYPE', `The key \`${stream}\` holds a ${type}, not a stream`);
      const lags = type === 'none' ? [] : await groupLags(conn, stream);
      const behind = await groupsBehindMs(conn, stream, lags, time);
      const groups = lags.map((g, i) => ({ ...g, behindMs: behind[i] as number }));
      if (named || groups.length > 0) streams[at] = { stream, exists: type !== 'none', groups };
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, names.length) }, worker));
  return { time, streams: streams.filter((s): s is StreamLags => s !== undefined) };
}

/** One row per group; or why there is none. `named` is the stream given on the command line. */
export function renderLags(report: LagReport, named?: string): string {
  if (named !== undefined) {
    const only = report.streams[0];
    if (!only || !only.exists) return `stream ${named} does not exist`;
    if (only.groups.length === 0) return `stream ${named} has no consumer groups`;
  } else if (report.streams.length === 0) {
    return 'no consumer groups on this server';
  }
  return table(
    ['STREAM', 'GROUP', 'LAG', 'BEHIND', 'PENDING', 'LAST DELIVERED'],
    report.streams.flatMap((s) =>
      s.groups.map((g) => [s.stream, g.group, g.exact ? formatCount(g.lag) : `≥ ${formatCount(g.lag)}`, formatDuration(g.behindMs), formatCount(g.pending), g.lastDeliveredId]),
    ),
  );
}
