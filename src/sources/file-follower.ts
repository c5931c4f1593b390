import { watch, type FSWatcher } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { classifyChange, LineSplitter } from './file-follower-lines.js';

/** How a `FileFollower` reads and looks for changes. */
export interface FileFollowerOptions {
  /** The file to follow. It must exist when the follower opens. */
  path: string;
  /**
   * How often the file is looked at (`fs.stat`) when no change was signalled. The poll alone is
   * enough: `fs.watch` only makes appends show sooner, where the file system reports them.
   */
  pollIntervalMs: number;
  /** Bytes of each file's start kept for `head()`. @default 4096 */
  headBytes?: number;
  /** Bytes read at a time: what the follower holds besides one incomplete line. @default 65536 */
  chunkBytes?: number;
  /** Watch the file's folder with `fs.watch` to see changes before the next poll. @default true */
  watch?: boolean;
}

/**
 * What `FileFollower.next()` gives, in the order it happened:
 * - `lines`: complete lines, in order (without their line ends);
 * - `caught-up`: every complete line the file holds now was given; `partial` when the start of a
 *   line without its newline yet is held. Given once each time the follower catches up;
 * - `truncated`: the file got shorter than what was read: the lines that follow are its own from
 *   its start (an incomplete line held was dropped: its bytes were cut);
 * - `replaced`: the path names another file: the old one was read to its end (a last line without
 *   a newline was given as a line) and the lines that follow are the new file's, from its start;
 * - `missing`: the path names no file any more; the follower waits for one to appear there.
 */
export type FollowedItem =
  | { type: 'lines'; lines: string[] }
  | { type: 'caught-up'; partial: boolean }
  | { type: 'truncated' }
  | { type: 'replaced' }
  | { type: 'missing' };

const DEFAULT_HEAD_BYTES = 4096;
const DEFAULT_CHUNK_BYTES = 64 * 1024;

/**
 * Reads a file as it grows, as `tail -F` does: the lines it holds, then each line appended, a
 * line at a time once its newline is written. It survives `copytruncate` rotation (read again
 * from the start), rotation by rename (the old file is read to its end, then the new one from its
 * start) and a path missing for a while (waited for).
 *
 * Pull-based: nothing is read until `next()` is called, so a caller that waits (for Redis, say)
 * holds at most one chunk. Changes are seen by an `fs.watch` on the file's folder where the file
 * system reports them, and by a `stat` every `pollIntervalMs` wherever it does not.
 */
export class FileFollower {
  readonly path: string;
  readonly #name: string;
  readonly #pollIntervalMs: number;
  readonly #buffer: Buffer;
  readonly #head: Buffer;
  #headLength = 0;
  readonly #splitter = new LineSplitter();
  #file: FileHandle;
  /** Bytes of the current file read so far. */
  #position = 0;
  /** Items to give before reading on (a rotation's last line comes before the `replaced`). */
  readonly #queue: FollowedItem[] = [];
  #caughtUp = false;
  #missing = false;
  #stopped = false;
  #closed: Promise<void> | undefined;
  #watcher: FSWatcher | undefined;
  /** Resolves the wait in progress; undefined when not waiting. */
  #wake: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** A change was signalled while not waiting: the next wait returns at once. */
  #signalled = false;
  readonly #onChange = (): void => {
    const wake = this.#wake;
    if (wake === undefined) {
      this.#signalled = true;
      return;
    }
    this.#wake = undefined;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    wake();
  };

  private constructor(options: FileFollowerOptions, file: FileHandle) {
    this.path = options.path;
    this.#name = basename(options.path);
    this.#pollIntervalMs = options.pollIntervalMs;
    this.#buffer = Buffer.allocUnsafe(options.chunkBytes ?? DEFAULT_CHUNK_BYTES);
    this.#head = Buffer.alloc(options.headBytes ?? DEFAULT_HEAD_BYTES);
    this.#file = file;
    if (options.watch ?? true) this.#watch();
  }

  /** Opens the file (it must exist: `ENOENT` otherwise) to follow it from its start. */
  static async open(options: FileFollowerOptions): Promise<FileFollower> {
    return new FileFollower(options, await open(options.path, 'r'));
  }

  /**
   * The first bytes of the file being read (up to `headBytes`), as far as they were read: what
   * identifies it. A view, valid until the next `next()`.
   */
  head(): Buffer {
    return this.#head.subarray(0, this.#headLength);
  }

  /** The next item; undefined once `stop()` was called. Waits while the file does not change. */
  async next(): Promise<FollowedItem | undefined> {
    for (;;) {
      if (this.#stopped) return undefined;
      const queued = this.#queue.shift();
      if (queued !== undefined) return queued;
      const { bytesRead } = await this.#file.read(this.#buffer, 0, this.#buffer.length, this.#position);
      if (bytesRead > 0) {
        this.#keepHead(bytesRead);
        this.#position += bytesRead;
        this.#caughtUp = false;
        const lines = this.#splitter.push(this.#buffer.subarray(0, bytesRead));
        if (lines.length > 0) return { type: 'lines', lines };
        continue;
      }
      const item = await this.#look();
      if (item === 'read') continue;
      if (item !== undefined) return item;
      if (!this.#caughtUp) {
        this.#caughtUp = true;
        return { type: 'caught-up', partial: this.#splitter.heldBytes > 0 };
      }
      await this.#wait();
    }
  }

  /** Ends the follow: a `next()` waiting returns undefined. Safe to call twice. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#watcher?.close();
    this.#watcher = undefined;
    this.#onChange();
  }

  /** Stops and closes the file. Call it once no `next()` is in progress. */
  close(): Promise<void> {
    this.stop();
    this.#closed ??= this.#file.close();
    return this.#closed;
  }

  /**
   * At the end of what was read: what to do. 'read' to read on, an item to give, or undefined to
   * wait for a change.
   */
  async #look(): Promise<FollowedItem | 'read' | undefined> {
    const open = await this.#file.stat();
    const atPath = await stat(this.path).then(
      ({ dev, ino }) => ({ dev, ino }),
      (error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      },
    );
    const change = classifyChange(this.#position, open, atPath);
    if (change !== 'missing') this.#missing = false;
    switch (change) {
      case 'grew':
        return 'read';
      case 'truncated':
        this.#restart();
        return { type: 'truncated' };
      case 'replaced':
        return this.#switchFile();
      case 'missing':
        if (this.#missing) return undefined;
        this.#missing = true;
        return { type: 'missing' };
      case 'unchanged':
        return undefined;
    }
  }

  /** Goes over to the file now at the path, once the old one is read to its end. */
  async #switchFile(): Promise<FollowedItem | 'read' | undefined> {
    let next: FileHandle;
    try {
      next = await open(this.path, 'r');
    } catch (error) {
      // Gone again between the stat and the open: wait for the next one.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
    let oldSize: number;
    try {
      // A writer still appending to the old file (it reopens the path only when told to): what it
      // wrote until now is read before going over.
      oldSize = (await this.#file.stat()).size;
    } catch (error) {
      await next.close();
      throw error;
    }
    if (oldSize > this.#position) {
      await next.close();
      return 'read';
    }
    const last = this.#splitter.flush();
    const old = this.#file;
    this.#file = next;
    this.#restart();
    await old.close();
    if (last === undefined) return { type: 'replaced' };
    this.#queue.push({ type: 'replaced' });
    return { type: 'lines', lines: [last] };
  }

  /** Reads the current file from its start. */
  #restart(): void {
    this.#position = 0;
    this.#headLength = 0;
    this.#splitter.reset();
    this.#caughtUp = false;
  }

  #keepHead(bytesRead: number): void {
    if (this.#position >= this.#head.length) return;
    const copied = this.#buffer.copy(this.#head, this.#position, 0, Math.min(bytesRead, this.#head.length - this.#position));
    this.#headLength = this.#position + copied;
  }

  /** Until a change is signalled, the poll interval passes, or `stop()`. */
  #wait(): Promise<void> {
    if (this.#signalled) {
      this.#signalled = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      this.#wake = resolve;
      this.#timer = setTimeout(this.#onChange, this.#pollIntervalMs);
    });
  }

  /**
   * Watches the folder rather than the file: a watch on the file follows its inode, so it would
   * not see another file created at the path after a rotation. Events of other files in the
   * folder are ignored; a folder that cannot be watched leaves the poll alone.
   */
  #watch(): void {
    try {
      this.#watcher = watch(dirname(this.path), { persistent: false }, (_event, filename) => {
        if (filename === null || filename === this.#name) this.#onChange();
      });
      this.#watcher.on('error', () => {
        this.#watcher?.close();
        this.#watcher = undefined;
      });
    } catch {
      this.#watcher = undefined;
    }
  }
}
