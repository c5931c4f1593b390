import type { Command } from 'commander';
import { SluiceError } from '../../errors.js';
import type { GroupsReport } from '../../index.js';
import { readGroupReports } from '../../consumer/group-report.js';
import { globalOptions, withSluice } from '../context.js';
import { streamKey } from '../options.js';
import { formatCount, formatDuration, table, writeJson, writeLine } from '../output.js';

/** Pending entries read per group to find the most delivered ones. */
const SAMPLE = 1000;
/** Most delivered entries shown per group. */
const TOP = 3;

export function registerGroups(program: Command): void {
  program
    .command('groups')
    .description('show the consumer groups of a stream: consumers, pending, lag, oldest pending entry, most delivered entries')
    .argument('<stream>', 'stream name, e.g. events:orders', streamKey)
    .addHelpText(
      'after',
      `
OLDEST PENDING is how long the pending entry with the lowest ID has been idle (since it was last
delivered): a large value means work is stuck. MAX DELIVERIES and the list below it show the
entries delivered most often among the first ${formatCount(SAMPLE)} pending ones of each group: retries piling up.

Examples:
  $ sluice groups events:orders
  $ sluice groups events:orders --json | jq '.groups[] | {name, pending, lag}'`,
    )
    .action(async (stream: string, _flags: unknown, command: Command) => {
      const globals = globalOptions(command);
      await withSluice(globals, async (sluice) => {
        const report = await readGroupReports(sluice.connection, stream, { sample: SAMPLE, top: TOP });
        if (!report.exists) {
          throw new SluiceError('ERR_NO_STREAM', `Stream \`${stream}\` does not exist: check its name with \`sluice info\``);
        }
        await (globals.json ? writeJson(report) : writeLine(renderGroups(report)));
      });
    });
}

/** The groups table, then their consumers, then the most delivered pending entries. */
export function renderGroups(report: GroupsReport): string {
  if (report.groups.length === 0) return `stream ${report.stream} has no consumer groups`;
  const parts = [
    table(
      ['GROUP', 'CONSUMERS', 'PENDING', 'LAG', 'LAST DELIVERED', 'OLDEST PENDING', 'MAX DELIVERIES'],
      report.groups.map((g) => [
        g.name,
        String(g.consumers.length),
        formatCount(g.pending),
        // Redis cannot always tell the lag (after deletions): `?` here, null in JSON.
        g.lag === null ? '?' : formatCount(g.lag),
        g.lastDeliveredId,
        g.oldestPending === null ? '-' : formatDuration(g.oldestPending.idleMs),
        // The first entry sampled is delivered at least once: 1 when none was delivered again.
        g.sampled === 0 ? '-' : formatCount(g.mostDelivered[0]?.deliveryCount ?? 1),
      ]),
    ),
  ];
  const consumers = report.groups.flatMap((g) =>
    g.consumers.map((c) => [g.name, c.name, formatCount(c.pending), formatDuration(c.idleMs), c.inactiveMs === undefined ? '?' : formatDuration(c.inactiveMs)]),
  );
  if (consumers.length > 0) parts.push(table(['GROUP', 'CONSUMER', 'PENDING', 'IDLE', 'INACTIVE'], consumers));
  const pending = report.groups.flatMap((g) => {
    const rows: string[][] = [];
    if (g.oldestPending !== null) {
      const o = g.oldestPending;
      rows.push([g.name, 'oldest', o.id, o.consumer, formatCount(o.deliveryCount), formatDuration(o.idleMs)]);
    }
    for (const e of g.mostDelivered) rows.push([g.name, 'most delivered', e.id, e.consumer, formatCount(e.deliveryCount), formatDuration(e.idleMs)]);
    return rows;
  });
  if (pending.length > 0) parts.push(table(['GROUP', 'PENDING ENTRY', 'ID', 'CONSUMER', 'DELIVERIES', 'IDLE'], pending));
  return parts.join('\n\n');
}
