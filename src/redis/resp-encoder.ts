/**
 * RESP encoding for the publisher's own connection (see pipeline-connection.ts).
 *
 * node-redis encodes each command to its own string and hands the socket one write per command,
 * which Node turns into a writev of thousands of small chunks per batch: that write path and its
 * garbage were most of the publish profile. Here a whole batch is encoded straight into bytes and
 * becomes one socket write.
 */

const POOL_SIZE = 1 << 20;

/**
 * Encodes commands (RESP arrays of bulk strings) into a byte pool; `take()` returns what was
 * encoded since the last `take()` as one Buffer for one socket write.
 *
 * Like Node's own `Buffer.allocUnsafe` pool, taken slices are views of the pool, never copies, and
 * never overwritten: once the pool is used up a new one is started, and the old one lives as long
 * as a slice of it is still being written.
 */
export class CommandEncoder {
  /** Allocated on first use: a publisher that never publishes holds none. */
  #pool = Buffer.alloc(0);
  /** Start of the bytes not taken yet. */
  #start = 0;
  /** End of the bytes encoded so far. */
  #end = 0;

  /** Bytes encoded and not taken yet. */
  get length(): number {
    return this.#end - this.#start;
  }

  /** Appends one command: `*<n>\r\n` then `$<bytes>\r\n<arg>\r\n` per argument. */
  push(args: readonly string[]): void {
    const count = args.length;
    // Room for the worst case once per command, not per argument: UTF-8 needs at most 3 bytes per
    // UTF-16 code unit, and 16 covers a `$<len>\r\n` head with its final `\r\n`.
    let bound = 16;
    for (let i = 0; i < count; i++) bound += (args[i] as string).length * 3 + 16;
    this.#reserve(bound);
    const pool = this.#pool;
    let at = this.#end;
    pool[at++] = 42; // *
    at = writeInt(pool, at, count);
    for (let i = 0; i < count; i++) {
      const arg = args[i] as string;
      const length = arg.length;
      const head = at;
      pool[at++] = 36; // $
      at = writeInt(pool, at, length);
      // ASCII (IDs, keys, field names, numbers: nearly every argument) is copied byte for byte,
      // which is much cheaper than Buffer.write or building strings for short values.
      let k = 0;
      for (; k < length; k++) {
        const code = arg.charCodeAt(k);
        if (code > 127) break;
        pool[at++] = code;
      }
      if (k < length) {
        // Not ASCII: the length prefix counts UTF-8 bytes, so write this argument again.
        at = writeInt(pool, head + 1, Buffer.byteLength(arg));
        at += pool.write(arg, at, 'utf8');
      }
      pool[at++] = 13;
      pool[at++] = 10;
    }
    this.#end = at;
  }

  /** Appends a command encoded before (`bytes[start, end)`), as is. */
  pushEncoded(bytes: Uint8Array, start: number, end: number): void {
    this.#reserve(end - start);
    this.#pool.set(bytes.subarray(start, end), this.#end);
    this.#end += end - start;
  }

  /** The bytes encoded since the last call (empty when none). */
  take(): Buffer {
    const taken = this.#pool.subarray(this.#start, this.#end);
    this.#start = this.#end;
    return taken;
  }

  /** Drops what was not taken (its connection is gone). */
  clear(): void {
    this.#end = this.#start;
  }

  /** Makes room for `bytes` more after #end, moving the untaken bytes to a new pool if needed. */
  #reserve(bytes: number): void {
    if (this.#end + bytes <= this.#pool.length) return;
    const pending = this.#end - this.#start;
    const pool = Buffer.allocUnsafe(Math.max(POOL_SIZE, (pending + bytes) * 2));
    this.#pool.copy(pool, 0, this.#start, this.#end);
    this.#pool = pool;
    this.#start = 0;
    this.#end = pending;
  }
}

/** Writes `<n>\r\n` (n ≥ 0) at `at`; returns the offset after it. */
function writeInt(pool: Buffer, at: number, n: number): number {
  if (n < 10) {
    pool[at++] = 48 + n;
  } else if (n < 100) {
    pool[at++] = 48 + ((n / 10) | 0);
    pool[at++] = 48 + (n % 10);
  } else {
    at += pool.write(String(n), at, 'latin1');
  }
  pool[at++] = 13;
  pool[at++] = 10;
  return at;
}
