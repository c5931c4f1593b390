import { InvalidOptionError } from '../errors.js';
import type { RedisConnection } from '../redis/connection.js';
import { LuaScript } from '../redis/lua-script.js';
import { splitEntryFields } from '../stream/codec.js';
import type { RawEntry } from '../stream/entries.js';
import { assertStreamId, idTime } from '../stream/stream-id.js';

const redriveScript = new LuaScript('redrive-2.lua');
const purgeScript = new LuaScript('purge-1.lua');

/** An entry of a dead-letter stream: the original event's fields and why it was dead-lettered. */
export interface DeadLetter {
  /** The dead-letter entry's ID. */
  id: string;
  /** When it was dead-lettered (epoch ms). */
  time: number;
  /** The original entry's ID in its stream. */
  originalId: string;
  stream: string;
  group: string;
  consumer: string;
  reason: string;
  error: string;
  /** Deliveries before it was dead-lettered; null when unknown (payload lost while pending). */
  deliveryCount: number | null;
  /** The original event's fields (empty when its payload was trimmed or deleted). */
  fields: Record<string, string>;
  /** The original event's `$` metadata, if any. */
  meta?: Record<string, string | undefined>;
}

/** Reads a raw dead-letter entry. */
export function parseDeadLetter(entry: RawEntry): DeadLetter {
  const [id, flat] = entry;
  const { fields, meta = {} } = splitEntryFields(flat ?? []);
  const take = (name: string) => {
    const value = meta[name];
    delete meta[name];
    return value ?? '';
  };
  const deliveries = take('dlq_deliveries');
  const letter: DeadLetter = {
    id,
    time: idTime(id),
    originalId: take('dlq_id'),
    stream: take('dlq_stream'),
    group: take('dlq_group'),
    consumer: take('dlq_consumer'),
    reason: take('dlq_reason'),
    error: take('dlq_error'),
    deliveryCount: /^\d+$/.test(deliveries) ? Number(deliveries) : null,
    fields,
  };
  take('dlq_time');
  if (Object.keys(meta).length > 0) letter.meta = meta;
  return letter;
}

/** The dead-letter stream of a stream: list, redrive (back to the stream as new events), purge. */
export class DeadLetterQueue {
  constructor(
    private readonly conn: RedisConnection,
    /** The stream redriven events go back to. */
    readonly stream: string,
    /** The dead-letter stream's key. */
    readonly key: string,
  ) {}

  /** Dead letters, oldest first. @param options.count at most this many (default 100) */
  async list(options: { count?: number; from?: string } = {}): Promise<DeadLetter[]> {
    const count = options.count ?? 100;
    if (!Number.isSafeInteger(count) || count < 1) throw new InvalidOptionError('count', count, 'a whole number ≥ 1');
    const start = options.from === undefined ? '-' : assertStreamId(options.from);
    const entries = await this.conn.command<RawEntry[]>(['XRANGE', this.key, start, '+', 'COUNT', String(count)]);
    return entries.map(parseDeadLetter);
  }

  /** Entries in the dead-letter stream. */
  size(): Promise<number> {
    return this.conn.command<number>(['XLEN', this.key]);
  }

  /**
   * Sends dead letters back to the stream as new events (their own fields, plus `$redriven`
   * holding the original ID) and removes them from the dead-letter stream, atomically per batch.
   * Resolves to the new IDs by dead-letter ID.
   */
  async redrive(target: { ids: readonly string[] } | { all: true }): Promise<Map<string, string>> {
    const moved = new Map<string, string>();
    if ('ids' in target) {
      if (!Array.isArray(target.ids) || target.ids.length === 0) throw new InvalidOptionError('ids', target.ids, 'a non-empty array of dead-letter IDs');
      for (const id of target.ids) assertStreamId(id);
      for (let i = 0; i < target.ids.length; i += 100) await this.#redriveBatch(target.ids.slice(i, i + 100), moved);
      return moved;
    }
    // Only what is there now: events dead-lettered again while redriving are not looped over.
    const last = await this.conn.command<RawEntry[]>(['XREVRANGE', this.key, '+', '-', 'COUNT', '1']);
    if (last.length === 0) return moved;
    const end = (last[0] as RawEntry)[0];
    let start = '-';
    for (;;) {
      const page = await this.conn.command<RawEntry[]>(['XRANGE', this.key, start, end, 'COUNT', '100']);
      if (page.length === 0) return moved;
      await this.#redriveBatch(page.map((e) => e[0]), moved);
      start = `(${(page[page.length - 1] as RawEntry)[0]}`;
    }
  }

  /** Deletes the dead-letter stream; resolves to the number of entries it held. */
  async purge(): Promise<number> {
    return purgeScript.run<number>(this.conn, [this.key], [], { retry: true });
  }

  async #redriveBatch(ids: string[], moved: Map<string, string>): Promise<void> {
    // Safe to retry: a repeat after a lost reply finds the moved entries gone and skips them.
    const flat = await redriveScript.run<string[]>(this.conn, [this.key, this.stream], ids, { retry: true });
    for (let i = 0; i + 1 < flat.length; i += 2) moved.set(flat[i] as string, flat[i + 1] as string);
  }
}
