import { BackpressureError, InvalidOptionError } from '../errors.js';
import { logger, type Logger } from '../observe/logger.js';
import type { RedisConnection } from '../redis/connection.js';
import type { BackpressureLimit, ProducerEmitter } from '../stream/producer-events.js';
import { parseDuration } from '../stream/time.js';
import { groupLags, type GroupLag } from './lag.js';

/** Producer limits of a stream: publishing slows down when consumers fall behind. */
export interface BackpressureOptions {
  /**
   * Most entries any counted group may lag behind (not yet delivered to it): a publish waits, or
   * is refused, while a group lags more than this.
   */
  maxLag?: number;
  /**
   * The groups whose lag counts for `maxLag`. A named group that does not exist on the stream is
   * not counted until it is created (producers never wait on a group that may come later), and
   * the first reading that misses it logs a warning, once per name, naming the stream and the
   * groups it has: a misspelled name would otherwise leave the producer unprotected in silence.
   * @default every group of the stream
   * @example { maxLag: 50_000, groups: ['billing', 'analytics'] }
   */
  groups?: string[];
  /** Hard cap on the stream's length: publishing stops rather than trimming unread events. */
  maxLen?: number;
  /**
   * Over a limit: `'block'` waits until the stream is back under it (up to `timeout`), `'reject'`
   * throws `BackpressureError` at once with `retryAfterMs`.
   * @default 'block'
   */
  onLimit?: 'block' | 'reject';
  /** How long a blocked publish waits before it throws BackpressureError. @default the publish timeout */
  timeout?: number | string;
  /**
   * How long one reading of lag and length is reused, so publishing stays fast (one XINFO per
   * interval, not per event).
   * @default 250 (ms)
   */
  cacheFor?: number | string;
}

interface Reading {
  at: number;
  /** Why the stream is over its limits, or undefined when it is not. */
  over: string | undefined;
  /** Which limit it is over. */
  limit: BackpressureLimit | undefined;
  /**
   * Publishes this reading still admits. Each admitted publish adds an entry to the stream and
   * to every group's lag, so a reading reused from the cache must not admit more than the
   * limits leave room for: without this count, one producer publishing faster than `cacheFor`
   * ran straight past `maxLen` (a hard cap) and `maxLag`.
   */
  room: number;
}

/** What a gate gets from its stream besides the options. */
export interface GateSettings {
  /** The publish timeout: how long a blocked publish waits unless `timeout` says otherwise. */
  defaultTimeoutMs: number;
  /** Where waits and refusals are reported (`backpressure` producer events). */
  events?: ProducerEmitter;
  /** Where the gate warns about its options (a `groups` name that is not a group of the stream). @default Sluice's logger */
  log?: Logger;
}

/** Checks a stream's limits for its producers, from a briefly cached reading. */
export class BackpressureGate {
  readonly maxLag: number | undefined;
  readonly maxLen: number | undefined;
  readonly groups: readonly string[] | undefined;
  readonly onLimit: 'block' | 'reject';
  readonly timeoutMs: number;
  readonly cacheMs: number;
  #reading: Reading | undefined;
  #refreshing: Promise<Reading> | undefined;
  /** Publishes admitted and not yet settled: maybe not in XLEN and the lags yet. */
  #unconfirmed = 0;
  readonly #events: ProducerEmitter | undefined;
  readonly #log: Logger;
  /** `groups` names already reported missing: each is reported once, whatever comes later. */
  readonly #reportedMissing = new Set<string>();

  constructor(
    private readonly conn: RedisConnection,
    readonly stream: string,
    options: BackpressureOptions,
    settings: GateSettings,
  ) {
    if (options.maxLag !== undefined && (!Number.isSafeInteger(options.maxLag) || options.maxLag < 0)) {
      throw new InvalidOptionError('backpressure.maxLag', options.maxLag, 'a whole number of entries ≥ 0');
    }
    if (options.maxLen !== undefined && (!Number.isSafeInteger(options.maxLen) || options.maxLen < 1)) {
      throw new InvalidOptionError('backpressure.maxLen', options.maxLen, 'a whole number of entries ≥ 1');
    }
    if (options.maxLag === undefined && options.maxLen === undefined) {
      throw new InvalidOptionError('backpressure', options, 'limits with `maxLag` and/or `maxLen`');
    }
    if (options.groups !== undefined && (!Array.isArray(options.groups) || options.groups.some((g) => typeof g !== 'string'))) {
      throw new InvalidOptionError('backpressure.groups', options.groups, 'an array of group names');
    }
    const onLimit = options.onLimit ?? 'block';
    if (onLimit !== 'block' && onLimit !== 'reject') throw new InvalidOptionError('backpressure.onLimit', onLimit, '`block` or `reject`');
    this.maxLag = options.maxLag;
    this.maxLen = options.maxLen;
    this.groups = options.groups;
    this.onLimit = onLimit;
    this.timeoutMs = options.timeout === undefined ? settings.defaultTimeoutMs : parseDuration(options.timeout, 'backpressure.timeout');
    this.#events = settings.events;
    this.#log = settings.log ?? logger;
    this.cacheMs = parseDuration(options.cacheFor ?? 250, 'backpressure.cacheFor');
  }

  /**
   * Undefined when publishing may go on now (the common, synchronous case); otherwise a promise
   * that resolves once it may, or rejects with BackpressureError.
   */
  admit(now = Date.now()): Promise<void> | undefined {
    const reading = this.#reading;
    if (reading && now - reading.at < this.cacheMs && reading.over === undefined && reading.room > 0) {
      this.#take(reading);
      return undefined;
    }
    return this.#admitSlow();
  }

  /** Call once for every admitted publish when it settled (stored or failed). */
  settled(): void {
    this.#unconfirmed--;
  }

  #take(reading: Reading): void {
    reading.room--;
    this.#unconfirmed++;
  }

  async #admitSlow(): Promise<void> {
    const started = Date.now();
    const deadline = started + this.timeoutMs;
    /** Set once a reading was over a limit: from then on this publish is held back. */
    let heldBy: BackpressureLimit | undefined;
    for (;;) {
      const reading = await this.#read();
      if (reading.over === undefined) {
        if (reading.room > 0) {
          this.#take(reading);
          if (heldBy) this.#report('wait', Date.now() - started, heldBy);
          return;
        }
        // Publishes waiting on the same reading took its room: measure again.
        continue;
      }
      heldBy = reading.limit as BackpressureLimit;
      if (this.onLimit === 'reject') {
        this.#report('reject', 0, heldBy);
        throw new BackpressureError(this.cacheMs, `${reading.over}: publishing is refused until consumers catch up`);
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        this.#report('reject', Date.now() - started, heldBy);
        throw new BackpressureError(this.cacheMs, `${reading.over}, and it stayed so for ${this.timeoutMs} ms: consumers are not catching up`);
      }
      // Waiting for the condition to clear: the next reading is due after the cache interval.
      await new Promise((resolve) => setTimeout(resolve, Math.min(remaining, Math.max(this.cacheMs, 10))));
    }
  }

  #report(action: 'wait' | 'reject', waitMs: number, limit: BackpressureLimit): void {
    const events = this.#events;
    if (events?.has('backpressure')) events.emit('backpressure', { stream: this.stream, action, waitMs, limit });
  }

  async #read(): Promise<Reading> {
    const fresh = this.#reading;
    if (fresh && Date.now() - fresh.at < this.cacheMs && (fresh.over !== undefined || fresh.room > 0)) return fresh;
    this.#refreshing ??= this.#measure().finally(() => (this.#refreshing = undefined));
    return this.#refreshing;
  }

  async #measure(): Promise<Reading> {
    // Publishes admitted but not settled may or may not be in XLEN and the lags yet: they count
    // as written (the safe side; once settled, the next reading sees them as they are).
    const unconfirmed = this.#unconfirmed;
    const publishing = unconfirmed > 0 ? `, and ${unconfirmed} more being published` : '';
    let over: string | undefined;
    let limit: BackpressureLimit | undefined;
    let room = Infinity;
    if (this.maxLen !== undefined) {
      const length = await this.conn.command<number>(['XLEN', this.stream]);
      room = this.maxLen - length - unconfirmed;
      if (room <= 0) {
        over = `${this.stream} holds ${length} entries${publishing} (limit ${this.maxLen})`;
        limit = 'max-len';
      }
    }
    if (over === undefined && this.maxLag !== undefined) {
      // Counting past the limit is pointless: stop at limit + 1 when Redis cannot tell the lag.
      const lags = await groupLags(this.conn, this.stream, this.maxLag + 1);
      if (this.groups) this.#reportMissing(this.groups, lags);
      const counted = this.groups ? lags.filter((l) => this.groups?.includes(l.group)) : lags;
      const worst = counted.reduce<(typeof counted)[number] | undefined>((a, b) => (a && a.lag >= b.lag ? a : b), undefined);
      if (worst) {
        // A publish is admitted while no counted group lags more than maxLag entries.
        const lagRoom = this.maxLag + 1 - worst.lag - unconfirmed;
        room = Math.min(room, lagRoom);
        if (lagRoom <= 0) {
          over = `group ${worst.group} lags ${worst.exact ? '' : 'at least '}${worst.lag} entries behind ${this.stream}${publishing} (limit ${this.maxLag})`;
          limit = 'max-lag';
        }
      }
    }
    this.#reading = { at: Date.now(), over, limit, room };
    return this.#reading;
  }

  /**
   * Warns about named groups the stream does not have. They are left out of the count rather than
   * refused: consumers often create their group after producers start, and a group created later
   * counts from the next reading on. But a name that never matches (a typo) leaves `maxLag`
   * guarding nothing, which the producer would otherwise never learn.
   */
  #reportMissing(groups: readonly string[], lags: readonly GroupLag[]): void {
    if (this.#reportedMissing.size === groups.length) return; // every name reported: nothing left to say
    for (const group of groups) {
      if (this.#reportedMissing.has(group) || lags.some((l) => l.group === group)) continue;
      this.#reportedMissing.add(group);
      const existing = lags.map((l) => l.group);
      const its = existing.length === 0 ? 'it has no groups' : `its groups: ${existing.join(', ')}`;
      this.#log.warn(
        { stream: this.stream, group, groups: existing },
        `backpressure.groups names \`${group}\`, which is not a group of ${this.stream} (${its}): its lag is not counted until it exists`,
      );
    }
  }
}
