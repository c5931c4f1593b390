import { ClosedError, InvalidOptionError, InvalidStreamIdError } from '../errors.js';
import type { RedisConnection } from '../redis/connection.js';
import { decodeEntry, entriesOfXread, isDecodeFailure, type EntryDecoder, type InvalidEntryAction } from './entries.js';
import { isStreamId, previousId } from './stream-id.js';
import { parseTime } from './time.js';

/** Where `read()` starts. */
export type ReadFrom = '$' | '0' | string | Date;

export interface ReadOptions {
  /**
   * `'$'`: only events appended after the read starts (tail). `'0'`: from the beginning (replay).
   * An ID: the events after it, as XREAD does (pass the last ID you handled to resume).
   * A Date or an ISO time: events from that time on.
   * @default '$'
   */
  from?: ReadFrom;
  /**
   * Entries fetched per XREAD round trip.
   * @default 100
   */
  count?: number;
  /**
   * Milliseconds each XREAD waits for new events. With `block`, the iterator follows the stream
   * until `break`, `signal` or `sluice.close()`; without it, it ends once it has caught up.
   * Sluice loops with this finite BLOCK; it never sends BLOCK 0.
   * @example 1000
   */
  block?: number;
  /** Ends the iteration (also interrupts a waiting XREAD). */
  signal?: AbortSignal;
  /**
   * An entry that cannot be decoded or fails the schema: `'throw'` ends the iteration with
   * `DecodeError` / `SchemaValidationError`; `'skip'` passes over it.
   * @default 'throw'
   */
  onInvalid?: InvalidEntryAction;
}

export interface ReadContext {
  conn: RedisConnection;
  decoder: EntryDecoder;
}

interface CheckedRead {
  count: number;
  block: number | undefined;
  onInvalid: InvalidEntryAction;
}

/** Validates read options up front, so a bad option fails before any I/O. */
export function checkReadOptions(options: ReadOptions): CheckedRead {
  const count = options.count ?? 100;
  if (!Number.isSafeInteger(count) || count < 1) throw new InvalidOptionError('count', count, 'a whole number ≥ 1');
  const block = options.block;
  if (block !== undefined && (!Number.isSafeInteger(block) || block < 1)) {
    throw new InvalidOptionError('block', block, 'a whole number of milliseconds ≥ 1 (Sluice never sends BLOCK 0: it loops with a finite BLOCK)');
  }
  const onInvalid = options.onInvalid ?? 'throw';
  if (onInvalid !== 'throw' && onInvalid !== 'skip') throw new InvalidOptionError('onInvalid', onInvalid, '`throw` or `skip`');
  if (options.from !== undefined) startAfter(options.from); // validates
  return { count, block, onInvalid };
}

/**
 * The exclusive XREAD start for `from`; undefined for `$`, which is resolved against the stream
 * when reading starts (see `resolveTail`).
 */
export function startAfter(from: ReadFrom): string | undefined {
  if (from === '$') return undefined;
  if (from === '0' || from === '0-0') return '0-0';
  if (typeof from === 'string' && isStreamId(from)) return from;
  try {
    const ms = parseTime(from, 'from');
    return ms === 0 ? '0-0' : previousId(`${ms}-0`);
  } catch {
    throw new InvalidStreamIdError(from, '`from` to be `$`, `0`, a stream ID like 1692632086370-0, a Date or an ISO time like 2026-11-25T10:00:00Z');
  }
}

/**
 * `$` as a concrete ID: the stream's last generated ID. Re-sending `$` on every XREAD would
 * miss the events appended between two calls; a concrete ID never does.
 */
async function resolveTail(conn: RedisConnection, stream: string): Promise<string> {
  const [type, info] = await conn.pipeline([
    ['TYPE', stream],
    ['XINFO', 'STREAM', stream],
  ]);
  if (type === 'none') return '0-0';
  if (info instanceof Error) throw info;
  const fields = info as unknown[];
  const at = fields.indexOf('last-generated-id');
  return String(fields[at + 1]);
}

/** The iterator behind `stream.read()`. Each read has its own connection for its blocking XREAD. */
export async function* readEvents<E>(ctx: ReadContext, options: ReadOptions): AsyncGenerator<E, void, undefined> {
  const { count, block, onInvalid } = checkReadOptions(options);
  const { signal } = options;
  if (signal?.aborted) return;
  // A read started on a closed connection fails; one in progress when it closes ends quietly.
  if (ctx.conn.closed) throw new ClosedError('The Redis connection');
  const stream = ctx.decoder.stream;
  const conn = block === undefined ? ctx.conn : await ctx.conn.duplicate();
  // An abort, or closing the connection the read belongs to (sluice.close()), must interrupt an
  // XREAD that is waiting on the server: destroying the dedicated connection does that at once.
  // Without this, an open read would keep its connection, and the process, alive after close().
  const onAbort = () => {
    if (conn !== ctx.conn) conn.destroy();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  const offClose = conn === ctx.conn ? undefined : ctx.conn.onClose(onAbort);
  if (ctx.conn.closed) onAbort(); // closed while the dedicated connection was opening
  const stopped = () => (signal?.aborted === true || ctx.conn.closed) && conn.closed;
  try {
    let last: string;
    try {
      last = startAfter(options.from ?? '$') ?? (await resolveTail(conn, stream));
    } catch (error) {
      // An abort while `$` is being resolved destroys the connection under it: end quietly.
      if (stopped()) return;
      throw error;
    }
    const head = block === undefined ? ['XREAD', 'COUNT', String(count)] : ['XREAD', 'COUNT', String(count), 'BLOCK', String(block)];
    const deadlineExtra = block ?? 0;
    while (!signal?.aborted) {
      let reply: unknown;
      try {
        reply = await conn.command([...head, 'STREAMS', stream, last], {
          deadline: Date.now() + deadlineExtra + conn.options.commandTimeoutMs,
        });
      } catch (error) {
        if (stopped()) return;
        throw error;
      }
      const entries = entriesOfXread(reply);
      for (const entry of entries) {
        last = entry[0];
        let event: E;
        try {
          const decoded = decodeEntry<E>(ctx.decoder, entry);
          event = decoded instanceof Promise ? await decoded : decoded;
        } catch (error) {
          if (onInvalid === 'skip' && isDecodeFailure(error)) continue;
          throw error;
        }
        yield event;
        if (signal?.aborted) return;
      }
      if (block === undefined && entries.length < count) return;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    offClose?.();
    if (conn !== ctx.conn) await conn.close();
  }
}
