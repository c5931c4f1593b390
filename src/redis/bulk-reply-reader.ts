import { SimpleError } from '@redis/client';
import { isAscii } from 'node:buffer';
import { RespProtocolError, type Slices } from './resp-reader.js';

/**
 * Shorter substrings of a JS string are copies (V8 makes a SlicedString, which keeps its parent
 * alive, only from 13 characters on). Shorter ones are therefore cut out of one decoded text of
 * the whole reply; longer ones are decoded on their own, so an ID kept by a handler never holds a
 * whole batch in memory.
 */
const COPIED_BELOW = 13;

const EMPTY = Buffer.alloc(0);

/**
 * An incremental RESP2 reply parser made for large replies: XREADGROUP batches of a thousand
 * entries (~130 KB, spread over several socket chunks). Same values as `RespReader` (bulk and
 * simple strings → strings, integers → numbers, nil → null, arrays, error replies → node-redis
 * `SimpleError`), parsed differently:
 *
 * - Chunks are framed first: a cheap scan that follows lengths without creating anything finds
 *   where complete replies end, and only complete replies are parsed, once. (`RespReader` parses
 *   a reply again from its start each time a chunk arrives, which for a batch means building its
 *   strings two or three times.)
 * - Strings are not decoded one by one: each native Buffer-to-string call costs ~150 ns, nine per
 *   stream entry. When the replies are ASCII (nearly always: IDs, field names, numbers), their
 *   bytes are decoded to one string once and short strings are sliced out of it. Otherwise each
 *   string is decoded as UTF-8 on its own.
 */
export class BulkReplyReader {
  /** Bytes received but not yet part of a complete reply. */
  #rest: Buffer | undefined;
  /** Where the scan of #rest resumes, and how many values the reply there still needs. */
  #scan: ScanState = { at: 0, due: 0 };
  #buffer: Buffer = EMPTY;
  #text: string | undefined;
  #offset = 0;

  /** Parses the replies that `chunk` completes; `onReply` runs once per reply, in order. */
  feed(chunk: Buffer, onReply: (reply: unknown) => void): void {
    const buffer = this.#rest ? Buffer.concat([this.#rest, chunk]) : chunk;
    this.#rest = undefined;
    // Each byte is scanned once: a reply cut across chunks is scanned on from where it stopped.
    const end = scan(buffer, this.#scan);
    this.#scan.at -= end;
    // Copied when small, so a 64 KiB socket chunk is not kept alive for a few trailing bytes.
    if (end < buffer.length) this.#rest = buffer.length - end < 4096 ? Buffer.from(buffer.subarray(end)) : buffer.subarray(end);
    if (end === 0) return;
    this.#buffer = buffer;
    this.#text = isAscii(buffer.subarray(0, end)) ? (buffer as unknown as Slices).latin1Slice(0, end) : undefined;
    this.#offset = 0;
    try {
      while (this.#offset < end) onReply(this.#value());
    } finally {
      this.#buffer = EMPTY;
      this.#text = undefined;
    }
  }

  /** Forgets a partial reply (the connection it came from is gone). */
  reset(): void {
    this.#rest = undefined;
    this.#scan = { at: 0, due: 0 };
  }

  /** Parses the (complete) reply at #offset. */
  #value(): unknown {
    const buffer = this.#buffer;
    const type = buffer[this.#offset++];
    switch (type) {
      case 36 /* $ bulk string */: {
        const length = this.#int();
        if (length < 0) return null;
        const start = this.#offset;
        this.#offset = start + length + 2;
        return this.#string(start, start + length);
      }
      case 42 /* * array */: {
        const length = this.#int();
        if (length < 0) return null;
        const items: unknown[] = new Array(length);
        for (let i = 0; i < length; i++) items[i] = this.#value();
        return items;
      }
      case 58 /* : integer */:
        return this.#int();
      case 43 /* + simple string */:
      case 45 /* - error */: {
        const start = this.#offset;
        const lineEnd = buffer.indexOf(13, start);
        this.#offset = lineEnd + 2;
        const text = buffer.toString('utf8', start, lineEnd);
        return type === 43 ? text : new SimpleError(text);
      }
      default:
        throw new RespProtocolError(`Unexpected RESP type byte ${type} at offset ${this.#offset - 1}`);
    }
  }

  #string(start: number, end: number): string {
    const text = this.#text;
    const buffer = this.#buffer as unknown as Slices;
    if (text !== undefined) return end - start < COPIED_BELOW ? text.slice(start, end) : buffer.latin1Slice(start, end);
    return buffer.utf8Slice(start, end);
  }

  /** Reads `[-]digits\r\n` at #offset (known to be complete). */
  #int(): number {
    const buffer = this.#buffer;
    let i = this.#offset;
    const negative = buffer[i] === 45;
    if (negative) i++;
    let n = 0;
    for (let c = buffer[i] as number; c !== 13; c = buffer[++i] as number) n = n * 10 + (c - 48);
    this.#offset = i + 2;
    return negative ? -n : n;
  }
}

/** Where a scan stopped: the offset of the first value not scanned, and the values still due. */
export interface ScanState {
  at: number;
  /** Values the reply being scanned still needs (an array header adds its items); 0 between replies. */
  due: number;
}

/**
 * Scans `buffer` from `state.at`, following lengths only (no strings, no arrays), and returns the
 * offset just after the last complete reply (0 if none). `state` is left where the scan stopped:
 * at the start of a value that is not complete yet.
 */
export function scan(buffer: Buffer, state: ScanState): number {
  let i = state.at;
  let due = state.due;
  let end = 0;
  while (i < buffer.length) {
    const type = buffer[i];
    const lineEnd = buffer.indexOf(13, i + 1);
    if (lineEnd < 0 || lineEnd + 1 >= buffer.length) break;
    let next = lineEnd + 2;
    let items = 0;
    if (type === 36 /* $ */) {
      const length = lengthAt(buffer, i + 1, lineEnd);
      if (length >= 0) next += length + 2;
      if (next > buffer.length) break;
    } else if (type === 42 /* * */) {
      items = Math.max(0, lengthAt(buffer, i + 1, lineEnd));
    } else if (type !== 43 /* + */ && type !== 45 /* - */ && type !== 58 /* : */) {
      throw new RespProtocolError(`Unexpected RESP type byte ${type} at offset ${i}`);
    }
    i = next;
    // This value was one of those due (none are due when it starts a reply); an array's items are due next.
    due = (due === 0 ? 0 : due - 1) + items;
    if (due === 0) end = i;
  }
  state.at = i;
  state.due = due;
  return end;
}

function lengthAt(buffer: Buffer, start: number, end: number): number {
  let i = start;
  const negative = buffer[i] === 45;
  if (negative) i++;
  let n = 0;
  for (; i < end; i++) {
    const c = buffer[i] as number;
    if (c < 48 || c > 57) throw new RespProtocolError(`Unexpected byte ${c} in a RESP length at offset ${i}`);
    n = n * 10 + (c - 48);
  }
  return negative ? -n : n;
}
