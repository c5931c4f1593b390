import { Option } from 'commander';
import { InvalidInputError, InvalidOptionError, InvalidStreamIdError, InvalidTimeError, show } from '../errors.js';
import { parseDurabilityFlag, type Durability } from '../flow/durability.js';
import type { RetentionPolicy } from '../stream/xadd-args.js';
import { isStreamId } from '../stream/stream-id.js';
import { assertStreamName } from '../stream/stream-name.js';
import { parseAgo, parseDuration, parseTime } from '../stream/time.js';

/**
 * Parsers for command-line values, used as commander argument parsers so that a bad value fails
 * before any connection is opened. Each throws an `InvalidInputError` naming the flag as typed
 * (`--count`), which the CLI reports as a usage error (exit code 2).
 */

/** A command line that cannot be run as given (a missing or conflicting option, a bad file). */
export class UsageError extends InvalidInputError {
  constructor(message: string) {
    super('ERR_USAGE', message);
  }
}

/** A whole number ≥ `min`, written in decimal digits only (no `1e3`, no `0x10`, no sign). */
export function wholeNumber(option: string, min: number): (value: string) => number {
  return (value) => {
    const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min) throw new InvalidOptionError(option, value, `a whole number ≥ ${min}`);
    return n;
  };
}

/** A duration (`500ms`, `30s`, `7d`, or plain milliseconds), kept as text for the library; `min` in ms. */
export function duration(option: string, min = 0): (value: string) => string {
  return (value) => {
    const ms = parseDuration(value, option);
    if (ms < min) throw new InvalidTimeError(value, `\`${option}\` to be at least ${min} ms`);
    return value.trim();
  };
}

/** `--since 15m`: the epoch ms that long ago, read from the clock when the flag is parsed. */
export function since(option: string): (value: string) => number {
  return (value) => parseAgo(value, option);
}

/** `<max>/<per>`: at most `max` (a whole number ≥ 1) per `per` (a duration > 0), e.g. `100/1s`. */
export function rateLimit(option: string): (value: string) => { max: number; per: string } {
  return (value) => {
    const match = /^\s*(\d+)\s*\/\s*(\S+)\s*$/.exec(value);
    const max = match ? Number(match[1]) : Number.NaN;
    if (!match || !Number.isSafeInteger(max) || max < 1) {
      throw new InvalidOptionError(option, value, 'a rate like 100/1s or 5/500ms (a whole number ≥ 1, a slash, a duration)');
    }
    const per = match[2] as string;
    if (parseDuration(per, option) <= 0) throw new InvalidTimeError(value, `\`${option}\` to have a period longer than 0 ms`);
    return { max, per };
  };
}

/** A Redis URL (`--redis`, or the REDIS_URL variable, named by `option`). */
export function redisUrl(option: string): (value: string) => string {
  return (value) => {
    let protocol = '';
    try {
      protocol = new URL(value).protocol;
    } catch {
      // not a URL at all
    }
    if (protocol !== 'redis:' && protocol !== 'rediss:') {
      throw new InvalidOptionError(option, value, 'a Redis URL like redis://127.0.0.1:6379, redis://user:password@host:6379/0 or rediss://host:6380 (TLS)');
    }
    return value;
  };
}

/** A non-empty string. */
export function nonEmpty(option: string): (value: string) => string {
  return (value) => {
    if (value.length === 0) throw new InvalidOptionError(option, value, 'a non-empty string');
    return value;
  };
}

/** A group or consumer name: non-empty, without spaces or control characters (Redis would take them, shells and logs would not). */
export function groupName(option: string): (value: string) => string {
  return (value) => {
    // eslint-disable-next-line no-control-regex
    if (value.length === 0 || /[\s\u0000-\u001f\u007f]/.test(value)) throw new InvalidOptionError(option, value, 'a non-empty name without spaces, like billing');
    return value;
  };
}

/** A comma-separated list of group names (`--max-lag-groups billing,analytics`), each checked as `groupName` does. */
export function groupNames(option: string): (value: string) => string[] {
  return (value) => {
    const names = value.split(',').map((name) => name.trim());
    // eslint-disable-next-line no-control-regex
    if (names.some((name) => name.length === 0 || /[\s\u0000-\u001f\u007f]/.test(name))) {
      throw new InvalidOptionError(option, value, 'group names separated by commas, like billing,analytics');
    }
    return [...new Set(names)];
  };
}

/** `--durable fsync|replicas:N|none`, as the library's `Durability` (its timeout is the library's default). */
export function durable(value: string): Durability {
  const expected = '`fsync` (fsynced to the AOF), `replicas:N` (acknowledged by N ≥ 1 replicas) or `none`';
  let resolved: ReturnType<typeof parseDurabilityFlag>;
  try {
    // The timeout is resolved again by the stream (half the publish timeout): any value will do here.
    resolved = parseDurabilityFlag(value.trim(), 1);
  } catch (error) {
    if (error instanceof InvalidInputError) throw new InvalidOptionError('--durable', value, expected);
    throw error;
  }
  if (resolved.level === 'replicas') return { replicas: resolved.replicas };
  return resolved.level;
}

/**
 * A repeatable list of stream IDs (`--id A B` or `--id A --id B`): commander hands a variadic
 * option's values to its parser one at a time, with the list so far.
 */
export function streamIds(option: string): (value: string, previous: string[] | undefined) => string[] {
  return (value, previous) => {
    const text = value.trim();
    if (!isStreamId(text)) throw new InvalidStreamIdError(value, `\`${option}\` to be a stream ID like 1692632086370-0`);
    return [...(previous ?? []), text];
  };
}

/** A stream name the library accepts (no spaces, no braces…), checked before connecting. */
export function streamName(value: string): string {
  return assertStreamName(value);
}

/**
 * A stream key to inspect: any name `streamName` accepts, and also the helper streams whose names
 * hold a hash tag (`{events:orders}:dlq`), which can be read but not built by `sluice.stream()`.
 */
export function streamKey(value: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[{}]/.test(value) && !/[\s\u0000-\u001f\u007f]/.test(value) && value.length <= 512) return value;
  return assertStreamName(value);
}

const ISO_EXAMPLE = 'an ISO time like 2026-11-25T10:00:00Z';

/**
 * Where `tail` starts: `$` (new events only), `0` (the beginning), a stream ID (the events after
 * it) or an ISO time (the events from that time on).
 */
export function readFrom(value: string): string {
  const text = value.trim();
  if (text === '$' || text === '0' || isStreamId(text)) return text;
  if (isIsoTime(text)) return text;
  throw new InvalidStreamIdError(value, `\`--from\` to be \`$\`, \`0\`, a stream ID like 1692632086370-0 or ${ISO_EXAMPLE}`);
}

/**
 * A bound of `range`: `-` / `+`, a stream ID, epoch milliseconds or an ISO time (inclusive).
 * `option` is `--from` or `--to`.
 */
export function rangeBound(option: '--from' | '--to'): (value: string) => string {
  return (value) => {
    const text = value.trim();
    const open = option === '--from' ? '-' : '+';
    if (text === open || /^\d{1,20}(-\d{1,20})?$/.test(text) || isIsoTime(text)) return text;
    throw new InvalidStreamIdError(
      value,
      `\`${option}\` to be \`${open}\`, a stream ID like 1692632086370-0, epoch milliseconds or ${ISO_EXAMPLE}`,
    );
  };
}

/** A JSON document given on the command line (`--data`). */
export function json(option: string): (value: string) => unknown {
  return (value) => {
    try {
      return JSON.parse(value) as unknown;
    } catch (error) {
      throw new UsageError(`Expected \`${option}\` to be JSON like {"order_id":"12345"}, got ${show(value)} (${(error as Error).message})`);
    }
  };
}

function isIsoTime(text: string): boolean {
  // Only ISO shapes: parseTime also accepts epoch ms as a number, never as text.
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return false;
  try {
    parseTime(text);
    return true;
  } catch {
    return false;
  }
}

/** `--max-len`, `--max-age` and `--exact`, as the commands declare them. */
export interface RetentionFlags {
  maxLen?: number;
  maxAge?: string;
  exact?: boolean;
}

/**
 * The library's retention policy from the flags; undefined when neither limit is given
 * (`required` makes that a usage error, as for `trim`).
 */
export function retentionPolicy(flags: RetentionFlags, required: boolean): RetentionPolicy | undefined {
  if (flags.maxLen === undefined && flags.maxAge === undefined) {
    if (required) throw new UsageError('Expected `--max-len N` or `--max-age DURATION` (or both), got neither');
    if (flags.exact) throw new UsageError('Expected `--exact` to come with `--max-len N` or `--max-age DURATION`');
    return undefined;
  }
  const policy: RetentionPolicy = { exact: flags.exact === true };
  if (flags.maxLen !== undefined) policy.maxLen = flags.maxLen;
  if (flags.maxAge !== undefined) policy.maxAge = flags.maxAge;
  return policy;
}

/** `--codec fields|json`, shared by the commands that read or write events. */
export function codecOption(): Option {
  return new Option('--codec <codec>', 'how events are stored: `fields` (flat fields) or `json` (one `data` field holding JSON)')
    .choices(['fields', 'json'])
    .default('fields');
}
