import type { Registry } from 'prom-client';
import { CollectedMetric, type Sample } from './collected-metric.js';
import type { Overview, OverviewGroup, OverviewStream } from './overview.js';

/** Where the stream and group figures come from at scrape time: an `OverviewReader`. */
export interface OverviewSource {
  read(): Promise<Overview>;
}

type StreamValue = (s: OverviewStream) => number | null;
type GroupValue = (g: OverviewGroup) => number | null;

const seconds = (ms: number | null): number | null => (ms === null ? null : ms / 1000);

/**
 * The figures read from Redis (streams, groups, retention), as metrics computed at scrape time
 * from one overview read: every metric of a scrape shares the same read, and the reader's cache
 * keeps scrapes from reaching Redis more than once per TTL. When the read fails, the Redis-side
 * series are left out of that scrape (never stale values) and `overview_up` says 0.
 */
export class OverviewMetrics {
  #source: OverviewSource | undefined;
  #scrape: Promise<Overview | undefined> | undefined;
  #up = 0;
  #errors = 0;
  #truncated = 0;

  constructor(registry: Registry, prefix: string, source?: OverviewSource) {
    this.#source = source;
    const perStream = (name: string, type: 'gauge' | 'counter', help: string, value: StreamValue) =>
      new CollectedMetric({
        name: `${prefix}${name}`,
        help,
        type,
        collect: async () => {
          const out: Sample[] = [];
          for (const s of (await this.#read())?.streams ?? []) {
            const v = value(s);
            if (v !== null) out.push({ labels: { stream: s.name }, value: v });
          }
          return out;
        },
      }).register(registry);
    const perGroup = (name: string, type: 'gauge' | 'counter', help: string, value: GroupValue) =>
      new CollectedMetric({
        name: `${prefix}${name}`,
        help,
        type,
        collect: async () => {
          const out: Sample[] = [];
          for (const s of (await this.#read())?.streams ?? []) {
            for (const g of s.groups) {
              const v = value(g);
              if (v !== null) out.push({ labels: { stream: s.name, group: g.name }, value: v });
            }
          }
          return out;
        },
      }).register(registry);

    perStream('stream_length', 'gauge', 'Entries in the stream (XLEN).', (s) => s.length);
    perStream('stream_oldest_entry_age_seconds', 'gauge', "Age of the oldest entry (now minus its ID's time); absent when empty.", (s) => seconds(s.oldestAgeMs));
    perStream('stream_newest_entry_age_seconds', 'gauge', "Age of the newest entry (now minus its ID's time); absent when empty.", (s) => seconds(s.newestAgeMs));
    perStream('stream_memory_bytes', 'gauge', 'Memory used by the stream key (MEMORY USAGE, sampled).', (s) => s.memoryBytes);
    perStream('stream_entries_added_total', 'counter', 'Entries ever appended to the stream (XINFO entries-added), trimmed ones included.', (s) => s.entriesAdded);
    perStream('stream_dead_letters', 'gauge', 'Entries in the stream’s dead-letter stream ({stream}:dlq).', (s) => s.deadLetters);
    new CollectedMetric({
      name: `${prefix}stream_retention_held_back_entries`,
      help: 'Entries the retention policy would remove but a group still needs, by that group (from the last group-respecting trim).',
      type: 'gauge',
      collect: async () =>
        ((await this.#read())?.streams ?? []).flatMap((s) => (s.heldBack ? [{ labels: { stream: s.name, group: s.heldBack.group }, value: s.heldBack.entries }] : [])),
    }).register(registry);

    perGroup('group_lag', 'gauge', 'Entries not yet delivered to the group; absent when Redis cannot tell (after XDEL).', (g) => g.lag);
    perGroup('group_lag_seconds', 'gauge', 'How far behind the group is in time: the age of the oldest entry not yet delivered to it; 0 when it has had them all.', (g) => g.behindMs / 1000);
    perGroup('group_pending', 'gauge', 'Entries delivered to the group and not yet acknowledged (the PEL).', (g) => g.pending);
    perGroup('group_oldest_pending_age_seconds', 'gauge', "Age of the oldest pending entry (now minus its ID's time); absent when nothing is pending.", (g) =>
      seconds(g.oldestPendingAgeMs),
    );
    perGroup('group_consumers', 'gauge', 'Consumers of the group.', (g) => g.consumers.length);
    perGroup('group_entries_read_total', 'counter', 'Entries the group has read (XINFO entries-read); absent when Redis cannot tell.', (g) => g.entriesRead);

    const single = (name: string, type: 'gauge' | 'counter', help: string, value: () => number) =>
      new CollectedMetric({
        name: `${prefix}${name}`,
        help,
        type,
        collect: async () => {
          await this.#read();
          return this.#source ? [{ value: value() }] : [];
        },
      }).register(registry);
    single('overview_up', 'gauge', '1 when the last read of streams and groups from Redis succeeded, else 0.', () => this.#up);
    single('overview_read_errors_total', 'counter', 'Reads of streams and groups from Redis that failed.', () => this.#errors);
    single('overview_truncated', 'gauge', '1 when more streams exist than the overview reads (maxStreams).', () => this.#truncated);
  }

  /** Sets (or replaces) the source; without one the Redis-side metrics are absent. */
  use(source: OverviewSource | undefined): void {
    this.#source = source;
  }

  get source(): OverviewSource | undefined {
    return this.#source;
  }

  /**
   * One read per scrape: the registry asks every metric at once, and they all await the same
   * promise, whether or not the source caches.
   */
  #read(): Promise<Overview | undefined> {
    const source = this.#source;
    if (!source) return Promise.resolve(undefined);
    this.#scrape ??= source
      .read()
      .then(
        (overview) => {
          this.#up = 1;
          this.#truncated = overview.truncated ? 1 : 0;
          return overview;
        },
        () => {
          this.#up = 0;
          this.#errors++;
          return undefined;
        },
      )
      .finally(() => {
        this.#scrape = undefined;
      });
    return this.#scrape;
  }
}
