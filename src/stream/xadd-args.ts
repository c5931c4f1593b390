import { InvalidOptionError } from '../errors.js';
import { parseDuration } from './time.js';

/**
 * Retention applied on write, as the guide advises (`XADD … MAXLEN ~ 10000 …`).
 * `maxLen` bounds the entry count; `maxAge` drops entries older than the duration (MINID).
 */
export interface RetentionPolicy {
  /** Keep about this many entries (exactly this many with `exact`). */
  maxLen?: number;
  /** Drop entries older than this: a duration like `7d`, `1h`, or milliseconds. */
  maxAge?: number | string;
  /**
   * Trim exactly (`=`) instead of approximately (`~`). Approximate trimming removes whole
   * internal nodes only, which is much cheaper; the stream may hold a few more entries.
   * @default false
   */
  exact?: boolean;
  /**
   * Never trim an entry that some consumer group has not been delivered yet or has not
   * acknowledged. XADD then carries no MAXLEN: the policy is applied by periodic passes (from
   * producers at most every few seconds, from workers, or `sluice trim --respect-groups`), each
   * one atomic step that computes the bound from every group's last-delivered and oldest
   * pending IDs.
   * @default false for producers (the guide's MAXLEN on XADD); workers apply a stream's policy
   * respecting groups unless this is explicitly false
   */
  respectGroups?: boolean;
}

/** A validated retention policy: `maxAgeMs` resolved from the duration. */
export interface Retention {
  maxLen?: number;
  maxAgeMs?: number;
  exact: boolean;
  /** Undefined when not given: producers then trim on XADD, workers respect groups. */
  respectGroups?: boolean;
}

export function parseRetention(policy: RetentionPolicy | undefined, option = 'retention'): Retention | undefined {
  if (policy === undefined) return undefined;
  if (policy === null || typeof policy !== 'object') throw new InvalidOptionError(option, policy, 'an object like { maxLen: 10000 } or { maxAge: "7d" }');
  const retention: Retention = { exact: policy.exact === true };
  if (policy.maxLen !== undefined) {
    if (!Number.isSafeInteger(policy.maxLen) || policy.maxLen < 0) {
      throw new InvalidOptionError(`${option}.maxLen`, policy.maxLen, 'a whole number of entries ≥ 0');
    }
    retention.maxLen = policy.maxLen;
  }
  if (policy.maxAge !== undefined) retention.maxAgeMs = parseDuration(policy.maxAge, `${option}.maxAge`);
  if (policy.exact !== undefined && typeof policy.exact !== 'boolean') throw new InvalidOptionError(`${option}.exact`, policy.exact, 'true or false');
  if (policy.respectGroups !== undefined) {
    if (typeof policy.respectGroups !== 'boolean') throw new InvalidOptionError(`${option}.respectGroups`, policy.respectGroups, 'true or false');
    retention.respectGroups = policy.respectGroups;
  }
  if (retention.maxLen === undefined && retention.maxAgeMs === undefined) {
    throw new InvalidOptionError(option, policy, 'a policy with `maxLen` and/or `maxAge`');
  }
  return retention;
}

/** `MAXLEN ~ n` for XADD/XTRIM (`=` when exact). */
export function maxLenArgs(retention: Retention): string[] {
  return retention.maxLen === undefined ? [] : ['MAXLEN', retention.exact ? '=' : '~', String(retention.maxLen)];
}

/** `MINID ~ <now - maxAge>-0` for XADD/XTRIM (`=` when exact). */
export function minIdArgs(retention: Retention, now: number): string[] {
  return retention.maxAgeMs === undefined ? [] : ['MINID', retention.exact ? '=' : '~', `${Math.max(0, now - retention.maxAgeMs)}-0`];
}

/**
 * The head of an XADD command, up to and including the ID: `XADD key [MAXLEN ~ n] *`.
 * XADD takes one trimming strategy, so `maxLen` rides on every XADD and `maxAge` is applied by
 * one XTRIM MINID per published batch (see `trimAfterBatchArgs`).
 */
export function xaddHead(key: string, retention: Retention | undefined): string[] {
  return retention && !retention.respectGroups ? ['XADD', key, ...maxLenArgs(retention), '*'] : ['XADD', key, '*'];
}

/** The XTRIM MINID to send once per published batch when the stream has a `maxAge`, else undefined. */
export function trimAfterBatchArgs(key: string, retention: Retention | undefined, now: number): string[] | undefined {
  if (retention?.maxAgeMs === undefined || retention.respectGroups) return undefined;
  return ['XTRIM', key, ...minIdArgs(retention, now)];
}

/** XTRIM commands that apply a whole policy now (one per strategy). */
export function trimCommands(key: string, retention: Retention, now: number): string[][] {
  const commands: string[][] = [];
  if (retention.maxAgeMs !== undefined) commands.push(['XTRIM', key, ...minIdArgs(retention, now)]);
  if (retention.maxLen !== undefined) commands.push(['XTRIM', key, ...maxLenArgs(retention)]);
  return commands;
}
