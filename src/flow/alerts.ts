import { InvalidOptionError } from '../errors.js';
import { formatCount, formatDuration } from '../format.js';
import type { RedisConnection } from '../redis/connection.js';
import { parseDuration } from '../stream/time.js';
import { groupLags } from './lag.js';
import { readHeldBack, type HeldBack } from './retention.js';

/**
 * The guide's alert conditions for a pipeline: a stream longer than expected, a group whose lag
 * keeps growing, a group that makes no progress, and retention held back by a group. Growth and
 * progress need two snapshots taken some time apart: `alertFindings(before, after)` compares
 * them (pure), `checkAlerts(conn, streams)` takes them.
 */

/** What a finding is about. */
export type AlertKind = 'length' | 'lag-growing' | 'no-progress' | 'retention-held-back';

/** One alert condition met by a stream or one of its groups. */
export interface AlertFinding {
  stream: string;
  /** The group concerned; absent for `length`. */
  group?: string;
  kind: AlertKind;
  /**
   * `fail`: events are not flowing (a group with undelivered entries that reads nothing);
   * `warn`: needs a look (length over the threshold, lag growing, pending entries not acked,
   * retention held back).
   */
  severity: 'warn' | 'fail';
  /** What was seen and what to do about it, for people. */
  message: string;
}

/** A group at the time of a snapshot (`GroupLag` from `groupLags` fits as it is). */
export interface GroupSnapshot {
  group: string;
  /** Entries not yet delivered to the group; null when unknown. */
  lag: number | null;
  /** False when the lag is a lower bound (counting stopped at a limit). @default true */
  exact?: boolean;
  /** Entries delivered and not yet acknowledged. */
  pending: number;
  lastDeliveredId: string;
  /** XINFO GROUPS `entries-read`, when known: a change counts as progress too. */
  entriesRead?: number | null;
}

/** A stream at one moment. */
export interface StreamSnapshot {
  stream: string;
  /** When it was taken (epoch ms). */
  at: number;
  length: number;
  groups: GroupSnapshot[];
  /** The group that held the last group-respecting trim back (`readHeldBack`), if any. */
  heldBack?: HeldBack;
}

export interface AlertThresholds {
  /**
   * A stream longer than this many entries is reported.
   * @default 1_000_000
   */
  maxLength?: number;
}

export const DEFAULT_MAX_LENGTH = 1_000_000;

/** The thresholds with their defaults, checked: throws InvalidOptionError. */
export function resolveThresholds(thresholds: AlertThresholds = {}): Required<AlertThresholds> {
  if (thresholds === null || typeof thresholds !== 'object') throw new InvalidOptionError('thresholds', thresholds, 'an object like { maxLength: 1000000 }');
  const maxLength = thresholds.maxLength ?? DEFAULT_MAX_LENGTH;
  if (!Number.isSafeInteger(maxLength) || maxLength < 0) throw new InvalidOptionError('thresholds.maxLength', thresholds.maxLength, 'a whole number of entries ≥ 0');
  return { maxLength };
}

/**
 * The findings that one snapshot can tell: the stream's length over `maxLength`, and the
 * retention held back by a group (informational, severity `warn`).
 */
export function snapshotFindings(snapshot: StreamSnapshot, thresholds?: AlertThresholds): AlertFinding[] {
  const { maxLength } = resolveThresholds(thresholds);
  const { stream } = snapshot;
  const findings: AlertFinding[] = [];
  if (snapshot.length > maxLength) {
    findings.push({
      stream,
      kind: 'length',
      severity: 'warn',
      message:
        `${stream} holds ${formatCount(snapshot.length)} entries, over the threshold of ${formatCount(maxLength)}: bound it with retention ` +
        `(a maxLen or maxAge policy on publish, or \`sluice trim ${stream} --max-len N --respect-groups\`), or raise the threshold if this size is expected`,
    });
  }
  const held = snapshot.heldBack;
  if (held) {
    findings.push({
      stream,
      group: held.group,
      kind: 'retention-held-back',
      severity: 'warn',
      message:
        `group ${held.group} holds retention of ${stream} back: ${formatCount(held.entries)} entries kept that the policy would remove, ` +
        `the oldest (${held.oldestNeededId}) ${formatDuration(held.ageMs)} old; let the group catch up, or delete it if nothing reads it any more (sluice group delete ${stream} --group ${held.group})`,
    });
  }
  return findings;
}

/**
 * Compares two snapshots of the same stream taken some time apart: the one-snapshot findings of
 * `after`, plus, per group present in both, `lag-growing` (its lag rose) and `no-progress`
 * (entries to deliver or to acknowledge, and neither its last-delivered ID nor its pending count
 * moved). A group with undelivered entries that read nothing is `fail`; one that only holds
 * pending entries is `warn` (its handlers may just be slow).
 */
export function alertFindings(before: StreamSnapshot, after: StreamSnapshot, thresholds?: AlertThresholds): AlertFinding[] {
  const findings = snapshotFindings(after, thresholds);
  const { stream } = after;
  const elapsedMs = Math.max(0, after.at - before.at);
  const earlier = new Map(before.groups.map((g) => [g.group, g]));
  const groupFindings: AlertFinding[] = [];
  for (const now of after.groups) {
    const then = earlier.get(now.group);
    // A group created between the snapshots has no history yet.
    if (!then) continue;
    if (then.lag !== null && now.lag !== null && now.lag > then.lag) {
      const rate = elapsedMs > 0 ? ` (+${formatCount(((now.lag - then.lag) * 1000) / elapsedMs)}/s)` : '';
      groupFindings.push({
        stream,
        group: now.group,
        kind: 'lag-growing',
        severity: 'warn',
        message:
          `the lag of group ${now.group} on ${stream} grew from ${lagText(then)} to ${lagText(now)} entries in ${formatDuration(elapsedMs)}${rate}: ` +
          'its consumers are falling behind the producers; run more consumers in the group, raise their concurrency, or look for slow handlers',
      });
    }
    const work = (now.lag ?? 0) > 0 || now.pending > 0;
    const moved =
      now.lastDeliveredId !== then.lastDeliveredId ||
      now.pending !== then.pending ||
      (now.entriesRead != null && then.entriesRead != null && now.entriesRead !== then.entriesRead);
    if (work && !moved) {
      const undelivered = (now.lag ?? 0) > 0;
      groupFindings.push({
        stream,
        group: now.group,
        kind: 'no-progress',
        severity: undelivered ? 'fail' : 'warn',
        message:
          `group ${now.group} on ${stream} made no progress in ${formatDuration(elapsedMs)}: ${lagText(now)} undelivered, ${formatCount(now.pending)} pending, ` +
          `last delivered ${now.lastDeliveredId}; ` +
          (undelivered
            ? 'check that its consumers are running and can reach Redis'
            : 'its consumers hold entries without acknowledging them: check for stuck handlers or dead consumers (their entries are reclaimed after claimIdle)') +
          ` (\`sluice groups ${stream}\` shows its consumers and oldest pending entry)`,
      });
    }
  }
  // Length first, then group findings, then retention (the informational one) last.
  const retention = findings.filter((f) => f.kind === 'retention-held-back');
  return [...findings.filter((f) => f.kind !== 'retention-held-back'), ...groupFindings, ...retention];
}


function lagText(group: GroupSnapshot): string {
  if (group.lag === null) return 'an unknown number of';
  return `${group.exact === false ? '≥ ' : ''}${formatCount(group.lag)}`;
}


// ---------------------------------------------------------------------------------------------
// Taking the snapshots (I/O): used by `sluice info --alerts` and `sluice doctor`.

export interface CheckAlertsOptions {
  /**
   * Time between the two snapshots: longer gives fewer false `no-progress` findings for groups
   * with slow handlers.
   * @default 1000 (ms)
   * @example '5s'
   */
  interval?: number | string;
  thresholds?: AlertThresholds;
  /**
   * Where Redis cannot tell a group's lag (after deletions), Sluice counts it, up to this many
   * entries (the lag is then a lower bound).
   * @default 10_000
   */
  lagLimit?: number;
}

const SNAPSHOT_CONCURRENCY = 16;

/**
 * A snapshot of a stream: its length, each group's lag (counted when Redis reports nil), pending
 * and last-delivered ID, and the retention held back. Undefined when the key is not a stream.
 */
export async function takeSnapshot(conn: RedisConnection, stream: string, lagLimit = 10_000): Promise<StreamSnapshot | undefined> {
  const at = Date.now();
  const [type, length] = await conn.pipeline([['TYPE', stream], ['XLEN', stream]]);
  if (type !== 'stream' || typeof length !== 'number') return undefined;
  const [groups, heldBack] = await Promise.all([groupLags(conn, stream, lagLimit), readHeldBack(conn, stream)]);
  const snapshot: StreamSnapshot = { stream, at, length, groups };
  if (heldBack) snapshot.heldBack = heldBack;
  return snapshot;
}

/**
 * Takes a snapshot of each stream, waits `interval`, takes another, and returns the findings of
 * every stream (a stream deleted in between is skipped), in the order of `streams`.
 */
export async function checkAlerts(conn: RedisConnection, streams: readonly string[], options: CheckAlertsOptions = {}): Promise<AlertFinding[]> {
  const thresholds = resolveThresholds(options.thresholds);
  const intervalMs = parseDuration(options.interval ?? 1000, 'interval');
  const lagLimit = options.lagLimit ?? 10_000;
  if (!Number.isSafeInteger(lagLimit) || lagLimit < 1) throw new InvalidOptionError('lagLimit', options.lagLimit, 'a whole number ≥ 1');
  const first = await snapshots(conn, streams, lagLimit);
  await new Promise((resolve) => setTimeout(resolve, intervalMs));
  const second = await snapshots(conn, streams, lagLimit);
  return streams.flatMap((_, i) => {
    const before = first[i];
    const after = second[i];
    return before && after ? alertFindings(before, after, thresholds) : [];
  });
}

async function snapshots(conn: RedisConnection, streams: readonly string[], lagLimit: number): Promise<(StreamSnapshot | undefined)[]> {
  const out = new Array<StreamSnapshot | undefined>(streams.length);
  let next = 0;
  const worker = async () => {
    while (next < streams.length) {
      const at = next++;
      out[at] = await takeSnapshot(conn, streams[at] as string, lagLimit);
    }
  };
  await Promise.all(Array.from({ length: Math.min(SNAPSHOT_CONCURRENCY, streams.length) }, worker));
  return out;
}
