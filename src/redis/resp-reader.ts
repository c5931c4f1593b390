import { SimpleError } from '@redis/client';

/** Node's Buffer methods behind `toString(encoding, start, end)`, without its argument checks. */
export interface Slices {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
}

/**
 * An incremental RESP2 reply parser for the publisher's own connection: fed socket chunks, it
 * calls back once per complete reply. Bulk and simple strings become strings, integers numbers,
 * nil `null`, arrays arrays, and error replies node-redis `SimpleError`s (so they are classified
 * and mapped exactly like replies that came through node-redis).
 *
 * A reply cut across chunks is parsed again from its start once more bytes arrive. The replies it
 * serves (XADD IDs, XTRIM counts, handshake OKs) are a few bytes, so that costs nothing.
 */
export class RespReader {
  #rest: Buffer | undefined;
  #value: unknown;
  #int = 0;

  /** Parses what `chunk` completes; `onReply` runs for each reply, in order. */
  feed(chunk: Buffer, onReply: (reply: unknown) => void): void {
    let buffer = chunk;
    if (this.#rest) {
      buffer = Buffer.concat([this.#rest, chunk]);
      this.#rest = undefined;
    }
    let offset = 0;
    while (offset < buffer.length) {
      const next = this.#parse(buffer, offset);
      if (next < 0) break;
      offset = next;
      const value = this.#value;
      this.#value = undefined;
      onReply(value);
    }
    // Copied, so a 64 KiB socket chunk is not kept alive for a few trailing bytes.
    if (offset < buffer.length) this.#rest = Buffer.from(buffer.subarray(offset));
  }

  /** Forgets a partial reply (the connection it came from is gone). */
  reset(): void {
    this.#rest = undefined;
    this.#value = undefined;
  }

  /** Parses one reply at `start` into #value; returns the offset after it, or -1 if incomplete. */
  #parse(buffer: Buffer, start: number): number {
    if (start >= buffer.length) return -1;
    const type = buffer[start];
    switch (type) {
      case 36 /* $ bulk string */: {
        const lineEnd = this.#readInt(buffer, start + 1);
        if (lineEnd < 0) return -1;
        if (this.#int < 0) {
          this.#value = null;
          return lineEnd + 2;
        }
        const dataStart = lineEnd + 2;
        const dataEnd = dataStart + this.#int;
        if (dataEnd + 2 > buffer.length) return -1;
        // An XADD's ID per publish: the direct call skips toString's argument checks.
        this.#value = (buffer as unknown as Slices).utf8Slice(dataStart, dataEnd);
        return dataEnd + 2;
      }
      case 43 /* + simple string */:
      case 45 /* - error */: {
        const lineEnd = buffer.indexOf(13, start + 1);
        if (lineEnd < 0 || lineEnd + 1 >= buffer.length) return -1;
        const text = buffer.toString('utf8', start + 1, lineEnd);
        this.#value = type === 43 ? text : new SimpleError(text);
        return lineEnd + 2;
      }
      case 58 /* : integer */: {
        const lineEnd = this.#readInt(buffer, start + 1);
        if (lineEnd < 0) return -1;
        this.#value = this.#int;
        return lineEnd + 2;
      }
      case 42 /* * array */: {
        const lineEnd = this.#readInt(buffer, start + 1);
        if (lineEnd < 0) return -1;
        if (this.#int < 0) {
          this.#value = null;
          return lineEnd + 2;
        }
        const items: unknown[] = new Array(this.#int);
        let offset = lineEnd + 2;
        for (let i = 0; i < items.length; i++) {
          offset = this.#parse(buffer, offset);
          if (offset < 0) return -1;
          items[i] = this.#value;
        }
        this.#value = items;
        return offset;
      }
      default:
        throw new RespProtocolError(`Unexpected RESP type byte ${type} at offset ${start}`);
    }
  }

  /** Reads `[-]digits\r\n` into #int; returns the offset of its `\r`, or -1 if incomplete. */
  #readInt(buffer: Buffer, start: number): number {
    let i = start;
    let negative = false;
    if (buffer[i] === 45 /* - */) {
      negative = true;
      i++;
    }
    let n = 0;
    for (; i < buffer.length; i++) {
      const c = buffer[i] as number;
      if (c === 13) {
        if (i + 1 >= buffer.length) return -1;
        this.#int = negative ? -n : n;
        return i;
      }
      if (c < 48 || c > 57) throw new RespProtocolError(`Unexpected byte ${c} in a RESP length at offset ${i}`);
      n = n * 10 + (c - 48);
    }
    return -1;
  }
}

/** The server sent something that is not RESP2: the connection cannot be trusted any more. */
export class RespProtocolError extends Error {
  override name = 'RespProtocolError';
}
