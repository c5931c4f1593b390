/*
 * The pure parts of following a file: cutting the bytes read into complete lines, and telling
 * from two `stat`s what happened to a file since it was last read.
 */

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;

/**
 * Cuts chunks of bytes into complete lines. A line is complete once its `\n` is read; the bytes
 * after the last `\n` are held until the rest of the line arrives, so a writer caught mid-write
 * never yields half a line. Lines are split on bytes before they are decoded, so a UTF-8
 * character cut in two by a chunk's end comes out whole. A `\r` before the `\n` (Windows line
 * ends) is dropped, as readline does with `crlfDelay: Infinity`.
 */
export class LineSplitter {
  /** Bytes after the last newline: the start of a line not complete yet (copies, not views). */
  #held: Buffer[] = [];
  #heldBytes = 0;

  /** How many bytes of an incomplete line are held. */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  /**
   * The complete lines that `chunk` ends, in order (empty when it ends none). The chunk's bytes
   * are copied where they must be kept: the caller may reuse its buffer.
   */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    let end = chunk.indexOf(NEWLINE, start);
    if (end >= 0 && this.#heldBytes > 0) {
      // The first newline completes the held line.
      this.#held.push(chunk.subarray(0, end));
      lines.push(decodeLine(Buffer.concat(this.#held, this.#heldBytes + end), 0, this.#heldBytes + end));
      this.#held = [];
      this.#heldBytes = 0;
      start = end + 1;
      end = chunk.indexOf(NEWLINE, start);
    }
    while (end >= 0) {
      lines.push(decodeLine(chunk, start, end));
      start = end + 1;
      end = chunk.indexOf(NEWLINE, start);
    }
    if (start < chunk.length) {
      this.#held.push(Buffer.from(chunk.subarray(start)));
      this.#heldBytes += chunk.length - start;
    }
    return lines;
  }

  /** The held bytes as a last line (a file that ended without a newline), or undefined; holds nothing after. */
  flush(): string | undefined {
    if (this.#heldBytes === 0) return undefined;
    const line = decodeLine(Buffer.concat(this.#held, this.#heldBytes), 0, this.#heldBytes);
    this.reset();
    return line;
  }

  /** Drops the held bytes (the file they came from was cut). */
  reset(): void {
    this.#held = [];
    this.#heldBytes = 0;
  }
}

/** Bytes `start` to `end` (the newline's index) as text, without a `\r` before the newline. */
function decodeLine(bytes: Buffer, start: number, end: number): string {
  if (end > start && bytes[end - 1] === CARRIAGE_RETURN) end--;
  return bytes.toString('utf8', start, end);
}

/** What identifies a file: `stat`'s device and inode. */
export interface FileIdentity {
  dev: number;
  ino: number;
}

/**
 * What happened to a followed file, once everything it held was read:
 * - `grew`: it holds more than was read: read on (an old file replaced at its path is read to its
 *   end before the new one);
 * - `replaced`: the path names another file (`mv app.log app.log.1 && touch app.log`) and the old
 *   one was read to its end: read the new one from its start;
 * - `truncated`: it is shorter than what was read (`copytruncate` rotation): read it again from
 *   its start;
 * - `missing`: the path names no file (deleted, or rotated and not created yet): wait for it;
 * - `unchanged`: nothing to read yet: wait.
 */
export type FileChange = 'grew' | 'replaced' | 'truncated' | 'missing' | 'unchanged';

/**
 * Classifies a followed file from the `stat` of the open file (`open`) and of its path (`atPath`,
 * undefined when the path names nothing), given the bytes read so far (`position`). A file cut
 * and written again past `position` between two looks is seen as `grew`: sizes cannot tell.
 */
export function classifyChange(position: number, open: FileIdentity & { size: number }, atPath: FileIdentity | undefined): FileChange {
  if (open.size > position) return 'grew';
  if (atPath !== undefined && (atPath.ino !== open.ino || atPath.dev !== open.dev)) return 'replaced';
  if (open.size < position) return 'truncated';
  return atPath === undefined ? 'missing' : 'unchanged';
}
