import { Option, type Command } from 'commander';
import type { CodecName } from '../../index.js';
import { globalOptions, withSluice } from '../context.js';
import { codecOption, rangeBound, since, streamName, wholeNumber } from '../options.js';
import { isStdoutClosed, writeJson } from '../output.js';

interface RangeFlags {
  from: string;
  /** Epoch ms: `--since` resolved against the clock when the command started. */
  since?: number;
  to: string;
  count?: number;
  reverse?: boolean;
  codec: CodecName;
}

export function registerRange(program: Command): void {
  program
    .command('range')
    .description('print the events between two IDs or times (inclusive), one JSON object per line')
    .argument('<stream>', 'stream name, e.g. events:orders', streamName)
    .option('--from <start>', '`-` (the oldest), a stream ID, epoch milliseconds or an ISO time', rangeBound('--from'), '-')
    .addOption(new Option('--since <duration>', 'start that long ago, e.g. 15m or 2h: the same as --from with the time then').argParser(since('--since')).conflicts('from'))
    .option('--to <end>', '`+` (the newest), a stream ID, epoch milliseconds or an ISO time', rangeBound('--to'), '+')
    .option('--count <n>', 'at most N events (default: all of them)', wholeNumber('--count', 1))
    .option('--reverse', 'newest first (XREVRANGE)')
    .addOption(codecOption())
    .addHelpText(
      'after',
      `
Examples:
  $ sluice range events:orders --count 10
  $ sluice range events:orders --from 2026-11-25T10:00:00Z --to 2026-11-25T11:00:00Z
  $ sluice range events:orders --since 1h --count 100
  $ sluice range events:orders --reverse --count 1`,
    )
    .action(async (stream: string, flags: RangeFlags, command: Command) => {
      await withSluice(globalOptions(command), async (sluice) => {
        const source = sluice.stream<unknown, unknown>(stream, { codec: flags.codec });
        const events = await source.range({ from: flags.since ?? flags.from, to: flags.to, count: flags.count, reverse: flags.reverse === true });
        for (const event of events) {
          if (isStdoutClosed()) break;
          await writeJson(event);
        }
      });
    });
}
