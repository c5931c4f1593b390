import type { Command } from 'commander';
import type { TrimReport } from '../../flow/retention.js';
import { renderHeldBack } from '../alerts.js';
import { globalOptions, withSluice } from '../context.js';
import { duration, retentionPolicy, streamName, wholeNumber, type RetentionFlags } from '../options.js';
import { formatCount, writeJson, writeLine } from '../output.js';

interface TrimFlags extends RetentionFlags {
  respectGroups?: boolean;
}

export function registerTrim(program: Command): void {
  program
    .command('trim')
    .description('apply a retention policy now (XTRIM) and print how many entries were removed')
    .argument('<stream>', 'stream name, e.g. events:orders', streamName)
    .option('--max-len <n>', 'keep about N entries (exactly N with --exact)', wholeNumber('--max-len', 0))
    .option('--max-age <duration>', 'remove entries older than this, e.g. 7d, 12h, 30m', duration('--max-age'))
    .option('--exact', 'trim exactly (=) instead of approximately (~, whole internal nodes only: cheaper)')
    .option('--respect-groups', 'never remove an entry that a consumer group has not been delivered or has not acknowledged; says which group held the trim back')
    .addHelpText(
      'after',
      `
One of --max-len and --max-age is required.

Examples:
  $ sluice trim events:orders --max-len 10000
  $ sluice trim events:orders --max-age 7d --exact
  $ sluice trim events:orders --max-len 10000 --respect-groups`,
    )
    .action(async (stream: string, flags: TrimFlags, command: Command) => {
      const globals = globalOptions(command);
      const policy = retentionPolicy(flags, true);
      if (policy && flags.respectGroups) policy.respectGroups = true;
      await withSluice(globals, async (sluice) => {
        const report = await sluice.stream(stream).applyRetention(policy);
        if (globals.json) await writeJson({ stream, ...report });
        else await writeLine(renderTrim(stream, report));
      });
    });
}

/** `removed N entries from S`, then the group that held the trim back, if one did. */
export function renderTrim(stream: string, report: TrimReport): string {
  const removed = `removed ${formatCount(report.removed)} ${report.removed === 1 ? 'entry' : 'entries'} from ${stream}`;
  if (!report.heldBackBy) return removed;
  return `${removed}\n${renderHeldBack(report.heldBackBy, 'held the trim back')}`;
}
