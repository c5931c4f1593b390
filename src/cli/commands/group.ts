import { Option, type Command } from 'commander';
import type { CreateGroupResult, DeleteGroupResult, GroupPosition, ResetGroupResult } from '../../index.js';
import { globalOptions, withSluice } from '../context.js';
import { groupName, readFrom, since, streamKey, UsageError } from '../options.js';
import { formatCount, writeJson, writeLine } from '../output.js';

interface CreateFlags {
  group: string;
  from: string;
  /** Epoch ms: `--since` resolved when the command started. */
  since?: number;
}

interface ResetFlags {
  group: string;
  to?: string;
  since?: number;
}

interface DeleteFlags {
  group: string;
  force?: boolean;
}

export function registerGroup(program: Command): void {
  const group = program
    .command('group')
    .description('create a consumer group at a position, move it (replay from a time, or skip a backlog), or delete it')
    .addHelpText(
      'after',
      `
A group delivers the entries after its last-delivered ID. \`group reset\` moves that ID: the
group's workers, running or not, go on from there. \`sluice groups <stream>\` shows where each
group is.`,
    );

  group
    .command('create')
    .description('create a consumer group (and the stream, if missing) starting at a position; an existing group is left where it is')
    .argument('<stream>', 'stream name, e.g. events:orders', streamKey)
    .requiredOption('--group <name>', 'the group to create', groupName('--group'))
    .option('--from <position>', '`$` (only events appended from now on), `0` (the whole stream), a stream ID (the events after it) or an ISO time (the events from then on)', readFrom, '$')
    .addOption(new Option('--since <duration>', 'start that long ago, e.g. 1h: the same as --from with the time then').argParser(since('--since')).conflicts('from'))
    .addHelpText(
      'after',
      `
Examples:
  $ sluice group create events:orders --group audit --from 0
  $ sluice group create events:orders --group billing --since 2h`,
    )
    .action(async (stream: string, flags: CreateFlags, command: Command) => {
      const globals = globalOptions(command);
      await withSluice(globals, async (sluice) => {
        const result = await sluice.stream(stream).createGroup(flags.group, { from: flags.since !== undefined ? new Date(flags.since) : flags.from });
        await (globals.json ? writeJson(result) : writeLine(describeCreate(result)));
      });
    });

  group
    .command('reset')
    .description('move a consumer group: its next read delivers the events after the new position (replay from a time, or skip a backlog)')
    .argument('<stream>', 'stream name, e.g. events:orders', streamKey)
    .requiredOption('--group <name>', 'the group to move', groupName('--group'))
    .option('--to <position>', '`$` (skip every event there now), `0` (replay the whole stream), a stream ID (the events after it) or an ISO time (replay from then)', readFrom)
    .addOption(new Option('--since <duration>', 'replay from that long ago, e.g. 30m: the same as --to with the time then').argParser(since('--since')).conflicts('to'))
    .addHelpText(
      'after',
      `
Pending entries (delivered, not acknowledged) stay with their consumers; a position before them
delivers them again as well. Events are delivered again only to this group: the others, and
the stream, are untouched.

Examples:
  $ sluice group reset events:orders --group billing --since 1h          # replay the last hour
  $ sluice group reset events:orders --group billing --to 2026-11-25T10:00:00Z
  $ sluice group reset events:orders --group analytics --to '$'          # skip the backlog`,
    )
    .action(async (stream: string, flags: ResetFlags, command: Command) => {
      const globals = globalOptions(command);
      if (flags.to === undefined && flags.since === undefined) throw new UsageError('Expected `--to <position>` or `--since <duration>` (where the group should go on from), got neither');
      await withSluice(globals, async (sluice) => {
        const result = await sluice.stream(stream).resetGroup(flags.group, { to: flags.since !== undefined ? new Date(flags.since) : (flags.to as string) });
        await (globals.json ? writeJson(result) : writeLine(describeReset(result)));
      });
    });

  group
    .command('delete')
    .description('delete a consumer group (it then no longer holds retention back); refused while it has pending entries or running consumers, unless --force')
    .argument('<stream>', 'stream name, e.g. events:orders', streamKey)
    .requiredOption('--group <name>', 'the group to delete', groupName('--group'))
    .option('--force', 'delete even with pending entries (they are forgotten) or consumers active in the last minute')
    .addHelpText(
      'after',
      `
A consumer active in the last minute counts as running: a running worker would create the group
again at its next read. Stop the group's workers first.

Examples:
  $ sluice group delete events:orders --group old-reports`,
    )
    .action(async (stream: string, flags: DeleteFlags, command: Command) => {
      const globals = globalOptions(command);
      await withSluice(globals, async (sluice) => {
        const result = await sluice.stream(stream).deleteGroup(flags.group, { force: flags.force === true });
        await (globals.json ? writeJson(result) : writeLine(describeDelete(result)));
      });
    });
}

function toDeliver(position: GroupPosition): string {
  const lag = position.lag === null ? 'more than can be counted' : formatCount(position.lag);
  const pending = position.pending > 0 ? `; ${formatCount(position.pending)} pending with their consumers` : '';
  return `${lag} event${position.lag === 1 ? '' : 's'} to deliver${pending}`;
}

function describeCreate(result: CreateGroupResult): string {
  const where = `after ${result.lastDeliveredId}`;
  return result.created
    ? `created group ${result.group} on ${result.stream}, delivering the events ${where}: ${toDeliver(result)}`
    : `group ${result.group} already exists on ${result.stream} (left as it is, ${where}): ${toDeliver(result)}`;
}

function describeReset(result: ResetGroupResult): string {
  return `moved group ${result.group} on ${result.stream} from ${result.previousId} to ${result.lastDeliveredId}: ${toDeliver(result)}`;
}

function describeDelete(result: DeleteGroupResult): string {
  const forgotten = result.pending > 0 ? ` (${formatCount(result.pending)} pending entries forgotten)` : '';
  return `deleted group ${result.group} from ${result.stream}${forgotten}`;
}
