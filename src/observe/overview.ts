import { InvalidOptionError } from '../errors.js';
import { alertFindings, resolveThresholds, snapshotFindings, type AlertFinding, type AlertThresholds, type StreamSnapshot } from '../flow/alerts.js';
import { retentionStateKey } from '../flow/retention.js';
import type { Sluice } from '../sluice.js';
import { compareIds, idTime } from '../stream/stream-id.js';
import { firstEntryId } from '../stream/stream-info.js';
import { helperKey } from '../stream/stream-name.js';
import { parseDuration } from '../stream/time.js';
import {
  deadLetterOwner,
  parseConsumerFacts,
  parseCount,
  parseGroupFacts,
  parseHeldBack,
  parsePendingSummary,
  parseStreamFacts,
  type GroupFacts,
  type StreamFacts,
} from './overview-replies.js';

/** A consumer of a group. */
export interface OverviewConsumer {
  name: string;
  /** Entries delivered to it and not yet acknowledged. */
  pending: number;
  /** Milliseconds since its last interaction with the group. */
  idleMs: number;
}

/** A consumer group of a stream. */
export interface OverviewGroup {
  name: string;
  /** Entries not yet delivered to the group; null when Redis cannot tell (after XDEL of entries it has not read). */
  lag: number | null;
  /**
   * How far behind the group is in time: the age of the oldest entry not yet delivered to it (now
   * minus its ID's time); 0 when it has been delivered everything.
   */
  behindMs: number;
  /** Entries delivered and not yet acknowledged. */
  pending: number;
  /** Age of the oldest pending entry (now minus its ID's time); null when nothing is pending. */
  oldestPendingAgeMs: number | null;
  consumers: OverviewConsumer[];
  lastDeliveredId: string;
  /** Entries the group has read (`entries-read`); null when Redis cannot tell. */
  entriesRead: number | null;
  /** Entries read per second since the previous read of the overview; null on the first. */
  outRate: number | null;
}

/** A stream and its groups. */
export interface OverviewStream {
  name: string;
  length: number;
  firstId: string | null;
  lastId: string | null;
  /** Age of the oldest and newest entry (now minus the ID's time); null when the stream is empty. */
  oldestAgeMs: number | null;
  newestAgeMs: number | null;
  /** MEMORY USAGE of the key (sampled); null when not asked for (`memorySamples: false`). */
  memoryBytes: number | null;
  /** Every entry ever appended (`entries-added`), trimmed ones included. */
  entriesAdded: number;
  /** Entries appended per second since the previous read of the overview; null on the first. */
  inRate: number | null;
  /** Length of its dead-letter stream (`{name}:dlq`); 0 when there is none. */
  deadLetters: number;
  /** The group that held the last group-respecting trim back, and how many entries it keeps. */
  heldBack: { entries: number; group: string } | null;
  groups: OverviewGroup[];
}

/** The whole picture at one moment. */
export interface Overview {
  /** When the read started (epoch ms). */
  at: number;
  /** Streams by name; dead-letter streams appear as their stream's `deadLetters`, not here. */
  streams: OverviewStream[];
  /**
   * Alert findings (`flow/alerts`): length and retention from this read; lag growth and progress
   * by comparison with a read at least `alertWindow` older (none until there is one).
   */
  alerts: AlertFinding[];
  /** True when more streams matched than `maxStreams`: only the first `maxStreams` (by name) are here. */
  truncated: boolean;
}

export interface OverviewOptions {
  /** The connection to read through. */
  sluice: Sluice;
  /**
   * The streams to report. Default: every stream on the server (SCAN … TYPE stream), matching
   * `match`. Streams that do not exist (yet) are left out.
   * @example ['events:orders', 'events:clicks']
   */
  streams?: readonly string[];
  /**
   * A SCAN pattern for discovery (ignored with `streams`).
   * @default '*'
   * @example 'events:*'
   */
  match?: string;
  /**
   * At most this many streams (the first by name); `truncated` says when more matched. Bounds a
   * read's cost on a server with very many streams.
   * @default 1000
   */
  maxStreams?: number;
  /**
   * How long a read is reused: calls within it are answered from the last read, and concurrent
   * calls share one read, so scrapes and dashboards never multiply the load on Redis.
   * @default '1s'
   * @example '5s'
   */
  ttl?: number | string;
  /**
   * MEMORY USAGE `SAMPLES` per stream (how many internal nodes Redis looks at to estimate the
   * size); `false` skips the command (`memoryBytes` is then null).
   * @default 5
   */
  memorySamples?: number | false;
  /** Thresholds of the alert findings. */
  thresholds?: AlertThresholds;
  /**
   * The shortest time between the two reads compared for `lag-growing` and `no-progress`: shorter
   * windows report slow handlers as stuck.
   * @default '5s'
   */
  alertWindow?: number | string;
}

/** Streams per pipelined batch: bounds one reply's size (and the time Redis spends on one batch). */
const CHUNK = 250;

interface Previous {
  at: number;
  entriesAdded: number;
  entriesRead: Map<string, number | null>;
}

interface Baseline {
  at: number;
  snapshots: Map<string, StreamSnapshot>;
}

type HeldBackState = NonNullable<ReturnType<typeof parseHeldBack>>;

interface Round1 {
  name: string;
  facts: StreamFacts;
  groups: GroupFacts[];
  deadLetters: number;
  heldBack: HeldBackState | null;
  memoryBytes: number | null;
}

/**
 * One cached reader of every stream, group and consumer: the source of `/metrics`, the dashboard
 * and `sluice top`. A read costs a SCAN (when discovering) and two pipelined rounds, whatever the
 * number of streams: XINFO STREAM, XINFO GROUPS, XLEN of the dead-letter stream, the retention
 * state and MEMORY USAGE per stream; then XPENDING (summary) and XINFO CONSUMERS per group.
 *
 * @example
 * const reader = new OverviewReader({ sluice, match: 'events:*' });
 * const { streams } = await reader.read();
 */
export class OverviewReader {
  readonly #sluice: Sluice;
  readonly #streams: readonly string[] | undefined;
  readonly #match: string;
  readonly #maxStreams: number;
  readonly #ttlMs: number;
  readonly #memorySamples: number | false;
  readonly #thresholds: Required<AlertThresholds>;
  readonly #alertWindowMs: number;
  #cached: { overview: Overview; until: number } | undefined;
  #reading: Promise<Overview> | undefined;
  #previous = new Map<string, Previous>();
  /** Recent snapshots, oldest first, to compare against one at least `alertWindow` old. */
  #baselines: Baseline[] = [];
  #reads = 0;

  constructor(options: OverviewOptions) {
    if (options === null || typeof options !== 'object') throw new InvalidOptionError('options', options, 'an object like { sluice }');
    const { sluice } = options;
    if (sluice === null || typeof sluice !== 'object' || typeof sluice.streams !== 'function') {
      throw new InvalidOptionError('sluice', sluice, 'a Sluice connection (from `connect()`)');
    }
    this.#sluice = sluice;
    if (options.streams !== undefined) {
      if (!Array.isArray(options.streams) || options.streams.some((s) => typeof s !== 'string' || s === '')) {
        throw new InvalidOptionError('streams', options.streams, 'an array of stream names like ["events:orders"]');
      }
      this.#streams = [...new Set(options.streams)];
    }
    this.#match = options.match ?? '*';
    if (typeof this.#match !== 'string' || this.#match === '') throw new InvalidOptionError('match', options.match, 'a SCAN pattern like events:*');
    this.#maxStreams = options.maxStreams ?? 1000;
    if (!Number.isSafeInteger(this.#maxStreams) || this.#maxStreams < 1) throw new InvalidOptionError('maxStreams', options.maxStreams, 'a whole number ≥ 1');
    this.#ttlMs = parseDuration(options.ttl ?? 1000, 'ttl');
    const samples = options.memorySamples ?? 5;
    if (samples !== false && (!Number.isSafeInteger(samples) || samples < 0)) {
      throw new InvalidOptionError('memorySamples', options.memorySamples, 'a whole number ≥ 0 (0: every node) or false (skip MEMORY USAGE)');
    }
    this.#memorySamples = samples;
    this.#thresholds = resolveThresholds(options.thresholds);
    this.#alertWindowMs = parseDuration(options.alertWindow ?? 5000, 'alertWindow');
  }

  /** Reads that went to Redis so far (calls answered from the cache or a shared read not counted). */
  get reads(): number {
    return this.#reads;
  }

  /** The cache's time to live, in ms. */
  get ttlMs(): number {
    return this.#ttlMs;
  }

  /**
   * The overview: the cached one while it is younger than `ttl`, else a new read (shared by every
   * caller until it completes). A failed read is not cached: the next call tries again.
   */
  read(): Promise<Overview> {
    const cached = this.#cached;
    if (cached && Date.now() < cached.until) return Promise.resolve(cached.overview);
    this.#reading ??= this.#readNow()
      .then((overview) => {
        this.#cached = { overview, until: Date.now() + this.#ttlMs };
        return overview;
      })
      .finally(() => {
        this.#reading = undefined;
      });
    return this.#reading;
  }

  async #readNow(): Promise<Overview> {
    this.#reads++;
    const at = Date.now();
    const { names, truncated } = await this.#names();
    const chunks: string[][] = [];
    for (let i = 0; i < names.length; i += CHUNK) chunks.push(names.slice(i, i + CHUNK));
    // Chunks are sent together: one connection pipelines them all, so this is one round trip per
    // round, with no single reply of unbounded size.
    const firsts = (await Promise.all(chunks.map((chunk) => this.#round1(chunk)))).flat();
    const seconds = await Promise.all(chunkBy(firsts, CHUNK).map((chunk) => this.#round2(chunk)));
    const streams: OverviewStream[] = [];
    let i = 0;
    for (const chunk of seconds) for (const groups of chunk) streams.push(this.#stream(firsts[i++] as Round1, groups, at));
    this.#previous = new Map(streams.map((s) => [s.name, { at, entriesAdded: s.entriesAdded, entriesRead: new Map(s.groups.map((g) => [g.name, g.entriesRead])) }]));
    const held = new Map(firsts.flatMap((f) => (f.heldBack ? [[f.name, f.heldBack] as const] : [])));
    return { at, streams, alerts: this.#alerts(streams, held, at), truncated };
  }

  async #names(): Promise<{ names: string[]; truncated: boolean }> {
    const all = this.#streams ? [...this.#streams].sort() : await this.#sluice.streams(this.#match);
    const names = all.filter((name) => {
      // A dead-letter stream is its stream's figure, not a stream of its own (unless asked for by name).
      const owner = deadLetterOwner(name);
      return owner === undefined || this.#streams !== undefined;
    });
    return names.length > this.#maxStreams ? { names: names.slice(0, this.#maxStreams), truncated: true } : { names, truncated: false };
  }

  /** Per stream: XINFO STREAM, XINFO GROUPS, XLEN of the DLQ, the retention state, MEMORY USAGE. */
  async #round1(names: string[]): Promise<Round1[]> {
    const per = this.#memorySamples === false ? 4 : 5;
    const commands: string[][] = [];
    for (const name of names) {
      commands.push(['XINFO', 'STREAM', name], ['XINFO', 'GROUPS', name], ['XLEN', helperKey(name, 'dlq')], ['HGETALL', retentionStateKey(name)]);
      if (this.#memorySamples !== false) commands.push(['MEMORY', 'USAGE', name, 'SAMPLES', String(this.#memorySamples)]);
    }
    const replies = await this.#sluice.connection.pipeline(commands);
    const out: Round1[] = [];
    names.forEach((name, n) => {
      const base = n * per;
      // An error here means the key is gone (deleted since SCAN) or is not a stream: left out.
      const facts = parseStreamFacts(replies[base]);
      if (!facts) return;
      out.push({
        name,
        facts,
        groups: parseGroupFacts(replies[base + 1]),
        deadLetters: parseCount(replies[base + 2]) ?? 0,
        heldBack: parseHeldBack(replies[base + 3]),
        memoryBytes: per === 5 ? parseCount(replies[base + 4]) : null,
      });
    });
    return out;
  }

  /**
   * Per group: the XPENDING summary (only if something is pending), XINFO CONSUMERS (only if it
   * has some), and the first entry it has not been delivered (only if the stream has newer ones).
   */
  async #round2(streams: Round1[]): Promise<GroupParts[][]> {
    const commands: string[][] = [];
    type Slot = { pending: number; consumers: number; undelivered: number };
    const slots: Slot[][] = [];
    for (const s of streams) {
      const lastId = s.facts.lastId;
      slots.push(
        s.groups.map((g) => {
          const pending = g.pending > 0 ? commands.push(['XPENDING', s.name, g.name]) - 1 : -1;
          const consumers = g.consumers > 0 ? commands.push(['XINFO', 'CONSUMERS', s.name, g.name]) - 1 : -1;
          const behind = lastId !== null && compareIds(g.lastDeliveredId, lastId) < 0;
          const undelivered = behind ? commands.push(['XRANGE', s.name, `(${g.lastDeliveredId}`, '+', 'COUNT', '1']) - 1 : -1;
          return { pending, consumers, undelivered };
        }),
      );
    }
    const replies = commands.length > 0 ? await this.#sluice.connection.pipeline(commands) : [];
    return streams.map((s, n) =>
      s.groups.map((g, k) => {
        const slot = (slots[n] as Slot[])[k] as Slot;
        return {
          facts: g,
          pending: slot.pending >= 0 ? parsePendingSummary(replies[slot.pending]) : { count: 0, oldestId: null },
          consumers: slot.consumers >= 0 ? parseConsumerFacts(replies[slot.consumers]) : [],
          firstUndeliveredId: slot.undelivered >= 0 ? firstEntryId(replies[slot.undelivered]) : null,
        };
      }),
    );
  }

  #stream(first: Round1, groups: GroupParts[], at: number): OverviewStream {
    const { facts } = first;
    const prev = this.#previous.get(first.name);
    const elapsed = prev ? (at - prev.at) / 1000 : 0;
    const rate = (now: number | null, then: number | null | undefined): number | null =>
      // A counter that went down means the key was re-created: no rate across that.
      elapsed > 0 && now !== null && then !== null && then !== undefined && now >= then ? (now - then) / elapsed : null;
    return {
      name: first.name,
      length: facts.length,
      firstId: facts.firstId,
      lastId: facts.lastId,
      oldestAgeMs: facts.firstId ? Math.max(0, at - idTime(facts.firstId)) : null,
      newestAgeMs: facts.lastId ? Math.max(0, at - idTime(facts.lastId)) : null,
      memoryBytes: first.memoryBytes,
      entriesAdded: facts.entriesAdded,
      inRate: rate(facts.entriesAdded, prev?.entriesAdded),
      deadLetters: first.deadLetters,
      heldBack: first.heldBack ? { entries: first.heldBack.entries, group: first.heldBack.group } : null,
      groups: groups.map(({ facts: g, pending, consumers, firstUndeliveredId }) => ({
        name: g.name,
        lag: g.lag,
        behindMs: firstUndeliveredId ? Math.max(0, at - idTime(firstUndeliveredId)) : 0,
        // XPENDING is newer than XINFO GROUPS when entries were acked in between; it wins.
        pending: g.pending > 0 ? pending.count : 0,
        oldestPendingAgeMs: pending.oldestId ? Math.max(0, at - idTime(pending.oldestId)) : null,
        consumers,
        lastDeliveredId: g.lastDeliveredId,
        entriesRead: g.entriesRead,
        outRate: rate(g.entriesRead, prev?.entriesRead.get(g.name)),
      })),
    };
  }

  /**
   * Findings of this read, compared with the newest earlier read at least `alertWindow` old.
   * Older baselines are dropped: only the one in use and the newer ones are kept.
   */
  #alerts(streams: OverviewStream[], held: ReadonlyMap<string, HeldBackState>, at: number): AlertFinding[] {
    const snapshots = new Map(streams.map((s) => [s.name, toSnapshot(s, held.get(s.name), at)]));
    let baseline: Baseline | undefined;
    let keepFrom = 0;
    this.#baselines.forEach((b, i) => {
      if (at - b.at >= this.#alertWindowMs) {
        baseline = b;
        keepFrom = i;
      }
    });
    this.#baselines = [...this.#baselines.slice(keepFrom), { at, snapshots }];
    const findings: AlertFinding[] = [];
    for (const s of streams) {
      const now = snapshots.get(s.name) as StreamSnapshot;
      const before = baseline?.snapshots.get(s.name);
      findings.push(...(before ? alertFindings(before, now, this.#thresholds) : snapshotFindings(now, this.#thresholds)));
    }
    return findings;
  }
}

interface GroupParts {
  facts: GroupFacts;
  pending: { count: number; oldestId: string | null };
  consumers: OverviewGroup['consumers'];
  /** The oldest entry not yet delivered to the group; null when it has had them all. */
  firstUndeliveredId: string | null;
}


function chunkBy<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function toSnapshot(s: OverviewStream, held: HeldBackState | undefined, at: number): StreamSnapshot {
  const snapshot: StreamSnapshot = {
    stream: s.name,
    at,
    length: s.length,
    groups: s.groups.map((g) => ({ group: g.name, lag: g.lag, pending: g.pending, lastDeliveredId: g.lastDeliveredId, entriesRead: g.entriesRead })),
  };
  if (held) snapshot.heldBack = { group: held.group, entries: held.entries, oldestNeededId: held.bound, ageMs: Math.max(0, at - idTime(held.bound)) };
  return snapshot;
}
