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
    this.#reserve(16);
    this.#pool[this.#end++] = 42; // *
    this.#writeInt(args.length);
    for (let i = 0; i < args.length; i++) this.#pushBulk(args[i] as string);
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

  #pushBulk(arg: string): void {
    const length = arg.length;
    // UTF-8 needs at most 3 bytes per UTF-16 code unit; 16 covers `$<len>\r\n` and the final `\r\n`.
    this.#reserve(length * 3 + 16);
    const pool = this.#pool;
    const head = this.#end;
    pool[this.#end++] = 36; // $
    this.#writeInt(length);
    // ASCII (IDs, keys, field names, numbers: nearly every argument) is copied byte for byte,
    // which is much cheaper than Buffer.write or building strings for short values.
    let at = this.#end;
    for (let k = 0; k < length; k++) {
      const code = arg.charCodeAt(k);
      if (code > 127) {
        // Not ASCII: the length prefix counts UTF-8 bytes, so start this argument again.
        this.#end = head + 1;
        this.#writeInt(Buffer.byteLength(arg));
        at = this.#end + pool.write(arg, this.#end, 'utf8');
        break;
      }
      pool[at++] = code;
    }
    pool[at] = 13;
    pool[at + 1] = 10;
    this.#end = at + 2;
  }

  /** Writes `<n>\r\n` (n ≥ 0). */
  #writeInt(n: number): void {
    const pool = this.#pool;
    if (n < 10) {
      pool[this.#end++] = 48 + n;
    } else if (n < 100) {
      pool[this.#end++] = 48 + ((n / 10) | 0);
      pool[this.#end++] = 48 + (n % 10);
    } else {
      this.#end += pool.write(String(n), this.#end, 'latin1');
    }
    pool[this.#end++] = 13;
    pool[this.#end++] = 10;
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

