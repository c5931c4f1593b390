import type { Command } from 'commander';
import { checkAlerts, DEFAULT_MAX_LENGTH, snapshotFindings, type AlertFinding, type StreamSnapshot } from '../../flow/alerts.js';
import { readHeldBack } from '../../flow/retention.js';
import type { StreamInfo } from '../../index.js';
import type { RedisConnection } from '../../redis/connection.js';
import { readStreamInfo } from '../../stream/stream-info.js';
import { heldBackDetail, renderFindings } from '../alerts.js';
import { globalOptions, withSluice } from '../context.js';
import { duration, streamKey, UsageError, wholeNumber } from '../options.js';
import { formatBytes, formatCount, formatDuration, formatTime, keyValues, table, writeJson, writeLine } from '../output.js';

/** Streams described at once when listing a server: enough to be quick, bounded for big servers. */
const CONCURRENCY = 16;

/** Time between the two snapshots of `--alerts`. */
const DEFAULT_INTERVAL = '1s';

interface InfoFlags {
  alerts?: boolean;
  interval?: string;
  maxLength?: number;
}

/** What `sluice info --json` prints per stream: the library's StreamInfo and the alert findings. */
export type StreamReport = StreamInfo & { alerts: AlertFinding[] };

export function registerInfo(program: Command): void {
  program
    .command('info')
    .description('describe one stream (groups, consumers, pending, lag, retention held back, alerts), or list every stream on the server')
    .argument('[stream]', 'stream name, e.g. events:orders (default: every stream)', streamKey)
    .option('--alerts', 'also check for lag growing and groups making no progress, from two snapshots --interval apart')
    .option('--interval <duration>', 'with --alerts: time between the two snapshots (default: 1s)', duration('--interval', 100))
    .option('--max-length <n>', `alert when a stream holds more than N entries (default: ${formatCount(DEFAULT_MAX_LENGTH)})`, wholeNumber('--max-length', 0))
    .addHelpText(
      'after',
      `
Every run reports the alerts one snapshot can tell: a stream over --max-length, and retention held
back by a group (at the last \`trim --respect-groups\` or group-respecting retention pass). With
--alerts it also takes a second snapshot --interval later, for lag growing and groups making no
progress.

Examples:
  $ sluice info
  $ sluice info events:orders
  $ sluice info events:orders --alerts
  $ sluice info events:orders --json | jq '.groups[].lag'`,
    )
    .action(async (stream: string | undefined, flags: InfoFlags, command: Command) => {
      const globals = globalOptions(command);
      if (flags.interval !== undefined && !flags.alerts) throw new UsageError('Expected `--interval` to come with `--alerts`');
      const thresholds = { maxLength: flags.maxLength ?? DEFAULT_MAX_LENGTH };
      await withSluice(globals, async (sluice) => {
        const conn = sluice.connection;
        // readStreamInfo rather than sluice.stream(): helper streams like `{events:orders}:dlq`
        // are streams too, but not names a Stream can be built with.
        const infos = stream !== undefined ? [await describeOne(conn, stream)] : await describeAll(conn, await sluice.streams());
        const existing = infos.filter((info) => info.exists);
        const alerts = flags.alerts
          ? await checkAlerts(conn, existing.map((info) => info.stream), { interval: flags.interval ?? DEFAULT_INTERVAL, thresholds })
          : existing.flatMap((info) => snapshotFindings(snapshotOf(info), thresholds));
        const reports: StreamReport[] = infos.map((info) => ({ ...info, alerts: alerts.filter((a) => a.stream === info.stream) }));
        if (stream !== undefined) {
          const report = reports[0] as StreamReport;
          if (globals.json) await writeJson(report);
          else await writeLine(describeStream(report, flags.alerts ? (flags.interval ?? DEFAULT_INTERVAL) : undefined));
          return;
        }
        if (globals.json) await writeJson(reports);
        else if (reports.length === 0) await writeLine('no streams on this server');
        else {
          const parts = [listStreams(reports)];
          if (alerts.length > 0) parts.push(`Alerts:\n${renderFindings(alerts)}`);
          else if (flags.alerts) parts.push(`Alerts: none (two snapshots ${flags.interval ?? DEFAULT_INTERVAL} apart)`);
          await writeLine(parts.join('\n\n'));
        }
      });
    });
}

/** The stream's info and the retention held back at the last group-respecting trim. */
async function describeOne(conn: RedisConnection, stream: string): Promise<StreamInfo> {
  const [info, heldBack] = await Promise.all([readStreamInfo(conn, stream), readHeldBack(conn, stream)]);
  if (heldBack && info.exists) info.retentionHeldBack = heldBack;
  return info;
}

/** What one snapshot from `info` tells the alerts: length and retention held back (lags as Redis reports them). */
function snapshotOf(info: StreamInfo): StreamSnapshot {
  const snapshot: StreamSnapshot = {
    stream: info.stream,
    at: Date.now(),
    length: info.length,
    groups: info.groups.map((g) => ({ group: g.name, lag: g.lag, pending: g.pending, lastDeliveredId: g.lastDeliveredId, entriesRead: g.entriesRead })),
  };
  if (info.retentionHeldBack) snapshot.heldBack = info.retentionHeldBack;
  return snapshot;
}

async function describeAll(conn: RedisConnection, names: readonly string[]): Promise<StreamInfo[]> {
  const infos: StreamInfo[] = new Array<StreamInfo>(names.length);
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const at = next++;
      infos[at] = await describeOne(conn, names[at] as string);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, names.length) }, worker));
  // A stream deleted between the SCAN and its XINFO is no longer one.
  return infos.filter((info) => info.exists);
}

/** One row per stream. */
export function listStreams(infos: readonly StreamInfo[]): string {
  return table(
    ['STREAM', 'LENGTH', 'FIRST', 'LAST', 'MEMORY', 'GROUPS'],
    infos.map((info) => [info.stream, formatCount(info.length), formatTime(info.firstTime), formatTime(info.lastTime), formatBytes(info.memoryBytes), String(info.groups.length)]),
  );
}

/**
 * A stream's details, then its groups and their consumers, then its alerts. `alertInterval` is
 * given when two snapshots were taken (`--alerts`): then "none" is said too.
 */
export function describeStream(info: StreamInfo & { alerts?: AlertFinding[] }, alertInterval?: string): string {
  if (!info.exists) return `stream ${info.stream} does not exist`;
  const idAndTime = (id: string | null, time: number | null) => (id === null ? '-' : `${id}  (${formatTime(time)})`);
  const details: [string, string][] = [
    ['stream', info.stream],
    ['length', formatCount(info.length)],
    ['first', idAndTime(info.firstId, info.firstTime)],
    ['last', idAndTime(info.lastId, info.lastTime)],
    ['last generated id', info.lastGeneratedId ?? '-'],
    ['memory', formatBytes(info.memoryBytes)],
    ['groups', String(info.groups.length)],
  ];
  const held = info.retentionHeldBack;
  if (held) details.push(['retention held back', `by group ${held.group}: ${heldBackDetail(held)}`]);
  const parts = [keyValues(details)];
  if (info.groups.length > 0) {
    parts.push(
      table(
        ['GROUP', 'CONSUMERS', 'PENDING', 'LAG', 'LAST DELIVERED', 'ENTRIES READ'],
        info.groups.map((g) => [
          g.name,
          String(g.consumers.length),
          formatCount(g.pending),
          // Redis cannot always tell the lag (after deletions): shown as `?`, null in JSON.
          g.lag === null ? '?' : formatCount(g.lag),
          g.lastDeliveredId,
          g.entriesRead === null ? '?' : formatCount(g.entriesRead),
        ]),
      ),
    );
    const consumers = info.groups.flatMap((g) =>
      g.consumers.map((c) => [g.name, c.name, formatCount(c.pending), formatDuration(c.idleMs), c.inactiveMs === undefined ? '?' : formatDuration(c.inactiveMs)]),
    );
    if (consumers.length > 0) parts.push(table(['GROUP', 'CONSUMER', 'PENDING', 'IDLE', 'INACTIVE'], consumers));
  }
  const alerts = info.alerts ?? [];
  if (alerts.length > 0) parts.push(`Alerts:\n${renderFindings(alerts)}`);
  else if (alertInterval !== undefined) parts.push(`Alerts: none (two snapshots ${alertInterval} apart)`);
  return parts.join('\n\n');
}
