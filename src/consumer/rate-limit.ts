import { InvalidOptionError, InvalidTimeError } from '../errors.js';
import type { RedisConnection } from '../redis/connection.js';
import { LuaScript } from '../redis/lua-script.js';
import { helperKey } from '../stream/stream-name.js';
import { parseDuration } from '../stream/time.js';

const rateLimitScript = new LuaScript('rate-limit-1.lua');

/**
 * How many handler starts a whole consumer group may make per period: every worker with the same
 * stream and group, in every process, shares one budget kept in Redis. A token bucket: after a
 * quiet spell the group may start up to `max` handlers at once, then `max` per `per`, evenly.
 * @example { max: 100, per: '1s' } // a partner's webhook that takes 100 calls a second
 */
export interface RateLimitOptions {
  /** Handler starts per period (a whole number ≥ 1); also the largest burst after a quiet spell. */
  max: number;
  /** The period: a duration like `500ms`, `1s`, `1m`, or a number of milliseconds (> 0). */
  per: number | string;
}

/** A checked rate limit. */
export interface RateLimit {
  readonly max: number;
  readonly perMs: number;
}

/** What the group's bucket gave: `granted` tokens, or none and the ms until the next one. */
export interface TokenGrant {
  readonly granted: number;
  readonly waitMs: number;
}

const KEYS = ['max', 'per'];

/** Checks the `rateLimit` option; undefined when there is none. */
export function resolveRateLimit(value: unknown): RateLimit | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidOptionError('rateLimit', value, "an object like { max: 100, per: '1s' }");
  }
  const options = value as Record<string, unknown>;
  for (const name of Object.keys(options)) {
    if (!KEYS.includes(name) && options[name] !== undefined) {
      throw new InvalidOptionError(`rateLimit.${name}`, options[name], 'absent: `rateLimit` has only `max` and `per`');
    }
  }
  const max = options.max;
  if (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 1) {
    throw new InvalidOptionError('rateLimit.max', max, 'a positive whole number (handler starts per `per`), like 100');
  }
  const expectedPer = 'a positive duration like 500ms, 1s or 1m, or a number of milliseconds > 0';
  let perMs: number;
  try {
    perMs = parseDuration(options.per, 'rateLimit.per');
  } catch (error) {
    if (error instanceof InvalidTimeError) throw new InvalidOptionError('rateLimit.per', options.per, expectedPer);
    throw error;
  }
  if (!(perMs > 0)) throw new InvalidOptionError('rateLimit.per', options.per, expectedPer);
  return { max, perMs };
}

/** The bucket's key: a helper key of the stream (same cluster slot), one per group. */
export function rateLimitKey(stream: string, group: string): string {
  return helperKey(stream, `ratelimit:${group}`);
}

/**
 * A group's rate limit, as one worker uses it: tokens are taken before entries are read or
 * claimed (so an entry is never pending while it waits for one), and the tokens of a read that
 * returned fewer entries are given back at once, for the group's other workers.
 */
export class GroupRateLimit {
  readonly key: string;
  readonly limit: RateLimit;
  readonly #conn: RedisConnection;
  readonly #keys: readonly string[];
  readonly #max: string;
  readonly #per: string;

  constructor(conn: RedisConnection, stream: string, group: string, limit: RateLimit) {
    this.#conn = conn;
    this.key = rateLimitKey(stream, group);
    this.limit = limit;
    this.#keys = [this.key];
    this.#max = String(limit.max);
    this.#per = String(limit.perMs);
  }

  /** Takes up to `wanted` tokens. */
  async take(wanted: number): Promise<TokenGrant> {
    // Safe to repeat after a lost reply: tokens taken twice only slow the group down a little.
    const [granted, waitMs] = await rateLimitScript.run<[number, number]>(this.#conn, this.#keys, [this.#max, this.#per, String(wanted), '0'], { retry: true });
    return { granted: Number(granted), waitMs: Number(waitMs) };
  }

  /**
   * Returns unused tokens, without waiting for the reply. Not repeated: a return counted twice
   * would let the group exceed its limit, one that is lost only slows it down until the refill.
   */
  giveBack(count: number): void {
    if (count <= 0) return;
    rateLimitScript.run(this.#conn, this.#keys, [this.#max, this.#per, '0', String(count)], { retry: false }).catch(() => undefined);
  }
}
