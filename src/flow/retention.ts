import type { RedisConnection } from '../redis/connection.js';
import { LuaScript } from '../redis/lua-script.js';
import type { Logger } from '../observe/logger.js';
import { idTime } from '../stream/stream-id.js';
import { helperKey } from '../stream/stream-name.js';
import type { Retention } from '../stream/xadd-args.js';

const trimScript = new LuaScript('trim-respecting-groups-2.lua');

/** A consumer group that kept entries the retention policy would have removed. */
export interface HeldBack {
  group: string;
  /** The oldest entry the group still needs (its oldest pending, or the next undelivered). */
  oldestNeededId: string;
  /** How old that entry is, in ms. */
  ageMs: number;
  /** Entries kept for the group that the policy would have removed (by age: counted up to 10,000). */
  entries: number;
}

export interface TrimReport {
  removed: number;
  /** Set when a group held the trim back. */
  heldBackBy?: HeldBack;
}

/**
 * Applies a retention policy now without removing anything a group has not processed: never an
 * entry not yet delivered to some group, nor one still pending. One atomic Lua step.
 */
export async function trimRespectingGroups(conn: RedisConnection, stream: string, retention: Retention, now = Date.now()): Promise<TrimReport> {
  const minIdByAge = retention.maxAgeMs === undefined ? '' : `${Math.max(0, now - retention.maxAgeMs)}-0`;
  const [removed, group, bound, entries] = await trimScript.run<[number, string | null, string | null, number]>(
    conn,
    [stream, retentionStateKey(stream)],
    [retention.maxLen === undefined ? '' : String(retention.maxLen), minIdByAge, retention.exact ? '=' : '~', String(now)],
    { retry: true },
  );
  const report: TrimReport = { removed: Number(removed) };
  if (group && bound) {
    report.heldBackBy = { group, oldestNeededId: bound, ageMs: Math.max(0, now - idTime(bound)), entries: Number(entries) };
  }
  return report;
}

/** Where the last group-respecting trim records which group held retention back. */
export function retentionStateKey(stream: string): string {
  return helperKey(stream, 'retention');
}

/** The group that held retention back at the last group-respecting trim, if any. */
export async function readHeldBack(conn: RedisConnection, stream: string, now = Date.now()): Promise<HeldBack | undefined> {
  const flat = await conn.command<string[]>(['HGETALL', retentionStateKey(stream)]);
  if (flat.length === 0) return undefined;
  const state: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) state[flat[i] as string] = flat[i + 1] as string;
  if (!state.group || !state.bound) return undefined;
  return { group: state.group, oldestNeededId: state.bound, ageMs: Math.max(0, now - idTime(state.bound)), entries: Number(state.entries ?? 0) };
}

/**
 * Runs the group-respecting policy of one stream periodically: from workers, and from producers
 * at most once per interval (never a round trip per publish). Logs once when a group starts
 * holding retention back, and once when it stops.
 */
export class RetentionEnforcer {
  #lastRun = 0;
  #running: Promise<TrimReport> | undefined;
  #holder: string | undefined;
  /** The latest report, for `info` and metrics. */
  last: TrimReport | undefined;

  constructor(
    private readonly conn: RedisConnection,
    readonly stream: string,
    readonly retention: Retention,
    private readonly log: Logger,
    readonly intervalMs = 5000,
  ) {}

  /** Starts a pass if the interval has passed and none is running; never waits. */
  poke(now = Date.now()): void {
    if (this.#running || now - this.#lastRun < this.intervalMs) return;
    void this.run().catch((error: unknown) => this.log.warn({ err: error, stream: this.stream }, 'retention pass failed; retrying on the next one'));
  }

  /** Runs a pass now (or joins the one running). */
  run(): Promise<TrimReport> {
    this.#running ??= trimRespectingGroups(this.conn, this.stream, this.retention)
      .then((report) => {
        this.#note(report);
        return report;
      })
      .finally(() => {
        this.#lastRun = Date.now();
        this.#running = undefined;
      });
    return this.#running;
  }

  #note(report: TrimReport): void {
    this.last = report;
    const holder = report.heldBackBy?.group;
    if (holder && holder !== this.#holder) {
      const held = report.heldBackBy as HeldBack;
      this.log.warn(
        { stream: this.stream, group: held.group, entries: held.entries, oldestNeededId: held.oldestNeededId, ageMs: held.ageMs },
        `group ${held.group} holds retention of ${this.stream} back: ${held.entries} entries kept, the oldest ${Math.round(held.ageMs / 1000)} s old`,
      );
    } else if (!holder && this.#holder) {
      this.log.info({ stream: this.stream, group: this.#holder }, `group ${this.#holder} no longer holds retention of ${this.stream} back`);
    }
    this.#holder = holder;
  }
}
