import { Option, type Command } from 'commander';
import type { CodecName } from '../../index.js';
import { globalOptions, withSluice } from '../context.js';
import { codecOption, readFrom, since, streamName, wholeNumber } from '../options.js';
import { writeJson } from '../output.js';
import { untilStopped } from '../signals.js';

interface TailFlags {
  from: string;
  /** Epoch ms: `--since` resolved against the clock when the command started. */
  since?: number;
  count?: number;
  block: number;
  codec: CodecName;
}

/** Largest XREAD COUNT per round trip: bounds what one reply holds in memory. */
const PAGE = 1000;

export function registerTail(program: Command): void {
  program
    .command('tail')
    .description('print events as they are appended, one JSON object per line; follows until Ctrl-C unless --count is given')
    .argument('<stream>', 'stream name, e.g. events:orders', streamName)
    .option('--from <position>', '`$` (only new events), `0` (from the beginning), a stream ID (the events after it) or an ISO time', readFrom, '$')
    .addOption(new Option('--since <duration>', 'start that long ago, e.g. 15m or 1h30m: the events from then on, then new ones').argParser(since('--since')).conflicts('from'))
    .option('--count <n>', 'stop after N events (default: follow until Ctrl-C)', wholeNumber('--count', 1))
    .option('--block <ms>', 'how long each XREAD waits for new events, in milliseconds', wholeNumber('--block', 1), 1000)
    .addOption(codecOption())
    .addHelpText(
      'after',
      `
Examples:
  $ sluice tail events:orders
  $ sluice tail events:orders --from 0 --count 10
  $ sluice tail events:orders --since 15m
  $ sluice tail events:orders --from 2026-11-25T10:00:00Z | jq -r .fields.order_id`,
    )
    .action(async (stream: string, flags: TailFlags, command: Command) => {
      const globals = globalOptions(command);
      // Ctrl-C (or SIGTERM) ends the read, which interrupts its waiting XREAD: a clean exit, code 0.
      await untilStopped((signal) =>
        withSluice(globals, async (sluice) => {
          const source = sluice.stream<unknown, unknown>(stream, { codec: flags.codec });
          const reading = source.read({ from: flags.since !== undefined ? new Date(flags.since) : flags.from, block: flags.block, count: Math.min(flags.count ?? PAGE, PAGE), signal });
          let printed = 0;
          for await (const event of reading) {
            await writeJson(event);
            if (flags.count !== undefined && ++printed >= flags.count) break;
          }
        }),
      );
    });
}
