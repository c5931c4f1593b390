import type { Command } from 'commander';
import { globalOptions, withSluice } from '../context.js';
import { duration, retentionPolicy, streamName, wholeNumber, type RetentionFlags } from '../options.js';
import { formatCount, writeJson, writeLine } from '../output.js';

export function registerTrim(program: Command): void {
  program
    .command('trim')
    .description('apply a retention policy now (XTRIM) and print how many entries were removed')
    .argument('<stream>', 'stream name, e.g. events:orders', streamName)
    .option('--max-len <n>', 'keep about N entries (exactly N with --exact)', wholeNumber('--max-len', 0))
    .option('--max-age <duration>', 'remove entries older than this, e.g. 7d, 12h, 30m', duration('--max-age'))
    .option('--exact', 'trim exactly (=) instead of approximately (~, whole internal nodes only: cheaper)')
    .addHelpText(
      'after',
      `
One of --max-len and --max-age is required.

Examples:
  $ sluice trim events:orders --max-len 10000
  $ sluice trim events:orders --max-age 7d --exact`,
    )
    .action(async (stream: string, flags: RetentionFlags, command: Command) => {
      const globals = globalOptions(command);
      const policy = retentionPolicy(flags, true);
      await withSluice(globals, async (sluice) => {
        const removed = await sluice.stream(stream).trim(policy);
        if (globals.json) await writeJson({ stream, removed });
        else await writeLine(`removed ${formatCount(removed)} ${removed === 1 ? 'entry' : 'entries'} from ${stream}`);
      });
    });
}
