import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { Logger } from '../observe/logger.js';
import type { RedisConnection } from '../redis/connection.js';
import { Fifo } from '../stream/fifo.js';
import { helperKey } from '../stream/stream-name.js';
import type { PublishWindow } from './publish-window.js';

/**
 * How much of a file's start identifies it, as log shippers fingerprint the files they follow: the
 * same path holding other content (a file replaced, rotated, rewritten) is read from its start.
 */
export const FINGERPRINT_BYTES = 4096;

/** What identifies a file: a hash of its first bytes, and how many. */
export interface Fingerprint {
  bytes: number;
  /** SHA-256 (hex). */
  hash: string;
}

/** Where a file source got to, stored in Redis beside the stream it publishes into. */
export interface FileCheckpoint {
  /** Lines read (blank ones included) up to the last one whose event Redis confirmed. */
  line: number;
  /** How many bytes of the file's start `fingerprint` covers. */
  fingerprintBytes: number;
  /** SHA-256 (hex) of those bytes. */
  fingerprint: string;
}

/** What a run starts from: the line to go on after, and why (for the log). */
export interface ResumePoint {
  /** Lines to skip: those whose events were published and confirmed by an earlier run. */
  skip: number;
  /** The file's fingerprint now, saved with the checkpoints of this run. */
  fingerprint: Fingerprint;
  /** Why the file is read from its start although a checkpoint exists; undefined otherwise. */
  restart?: string;
}

/**
 * The checkpoints of a stream's file sources: one hash `{stream}:sources`, a field per file
 * (`file:<absolute path>`), so a pipeline run again over the same file publishes only the lines
 * it has not published yet: none for a file unchanged, the new ones for a file that grew.
 */
export class FileCheckpoints {
  readonly key: string;
  readonly #field: string;

  constructor(
    private readonly conn: RedisConnection,
    stream: string,
    readonly path: string,
  ) {
    this.key = helperKey(stream, 'sources');
    this.#field = `file:${path}`;
  }

  /** The checkpoint of an earlier run, or undefined (none, or not one Sluice wrote). */
  async load(): Promise<FileCheckpoint | undefined> {
    const text = await this.conn.command<string | null>(['HGET', this.key, this.#field]);
    if (text === null) return undefined;
    try {
      const value = JSON.parse(text) as Partial<FileCheckpoint>;
      const valid =
        Number.isSafeInteger(value.line) &&
        (value.line as number) >= 0 &&
        Number.isSafeInteger(value.fingerprintBytes) &&
        typeof value.fingerprint === 'string';
      return valid ? (value as FileCheckpoint) : undefined;
    } catch {
      return undefined;
    }
  }

  async save(checkpoint: FileCheckpoint): Promise<void> {
    await this.conn.command(['HSET', this.key, this.#field, JSON.stringify(checkpoint)]);
  }

  /** Where this run starts: after the checkpoint's line when the file is the one it was taken of. */
  async resumePoint(): Promise<ResumePoint> {
    const now = await fingerprintOf(this.path, FINGERPRINT_BYTES);
    const checkpoint = await this.load();
    if (checkpoint === undefined) return { skip: 0, fingerprint: now };
    // The file is the one read before when its start is: compare what both runs had of it.
    const then = checkpoint.fingerprintBytes <= now.bytes ? await fingerprintOf(this.path, checkpoint.fingerprintBytes) : undefined;
    if (then === undefined || then.hash !== checkpoint.fingerprint) {
      return { skip: 0, fingerprint: now, restart: `${this.path} is not the file read before (its first ${checkpoint.fingerprintBytes} bytes changed)` };
    }
    return { skip: checkpoint.line, fingerprint: now };
  }
}

/** SHA-256 of the file's first `limit` bytes (fewer when the file is shorter), and how many. */
export async function fingerprintOf(path: string, limit: number): Promise<Fingerprint> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(limit);
    let bytes = 0;
    while (bytes < limit) {
      const { bytesRead } = await file.read(buffer, bytes, limit - bytes, bytes);
      if (bytesRead === 0) break;
      bytes += bytesRead;
    }
    return fingerprintOfBytes(buffer.subarray(0, bytes));
  } finally {
    await file.close();
  }
}

/** The fingerprint of a file whose first bytes are `head`. */
export function fingerprintOfBytes(head: Buffer): Fingerprint {
  return { bytes: head.length, hash: createHash('sha256').update(head).digest('hex') };
}

/** How often a file source records how far it got while it reads. */
const CHECKPOINT_EVERY_MS = 1000;

/**
 * A resuming file source's progress: the lines whose events are in flight, in order, and the
 * checkpoint written from them every second and at the end. Events on one connection are
 * confirmed in the order they were sent, so the confirmed ones are always the oldest lines: the
 * checkpoint is the line of the last of them. After a failed publish nothing more is recorded (a
 * later one may have been stored while it was not): the next run goes on from the last
 * checkpoint, publishing again at most what came after it.
 *
 * A followed file (`follow: true`) can be cut or replaced while it is read: `restart` then makes
 * the checkpoint describe the file read from then on. Its fingerprint grows with the bytes read
 * (`head`), so a file that was short or empty when it was opened is still told apart from the
 * next one at its path.
 */
export class FileProgress {
  readonly skip: number;
  readonly #checkpoints: FileCheckpoints;
  #fingerprint: Fingerprint;
  readonly #head: (() => Buffer) | undefined;
  readonly #window: PublishWindow;
  /** Lines of the events sent and not yet known confirmed, oldest first. */
  readonly #sentLines = new Fifo<number>();
  /** How many of the window's confirmed publishes have been taken off `#sentLines`. */
  #counted = 0;
  #confirmedLine: number;
  /** The line and fingerprint hash last written (hash '' for none). */
  #saved: number;
  #savedHash: string;
  #saving: Promise<void> | undefined;
  readonly #timer: NodeJS.Timeout;

  /**
   * @param head the first bytes of the file as read so far (up to `FINGERPRINT_BYTES`), for a
   *   followed file; without it the fingerprint is the one of `point`
   */
  constructor(
    checkpoints: FileCheckpoints,
    point: ResumePoint,
    window: PublishWindow,
    readonly log: Logger,
    head?: () => Buffer,
  ) {
    this.skip = point.skip;
    this.#checkpoints = checkpoints;
    this.#fingerprint = point.fingerprint;
    this.#head = head;
    this.#window = window;
    this.#confirmedLine = point.skip;
    this.#saved = point.restart === undefined ? point.skip : -1;
    this.#savedHash = point.restart === undefined ? point.fingerprint.hash : '';
    this.#timer = setInterval(() => void this.#save(), CHECKPOINT_EVERY_MS).unref();
  }

  /** The event of `line` was handed to the publisher. */
  sent(line: number): void {
    this.#sentLines.push(line);
  }

  /**
   * The file is read on from `line` (0: from its start), as another file when it was cut or
   * replaced: the checkpoint is `line` with the fingerprint of `head` from now on. Call it with
   * no publish in flight (the window drained), so no confirmed line is of the file before.
   */
  restart(line: number): void {
    this.#sentLines.drain();
    this.#counted = this.#window.published;
    this.#confirmedLine = line;
    if (this.#head !== undefined) this.#fingerprint = fingerprintOfBytes(this.#head());
    void this.#save();
  }

  /** The final checkpoint: `readTo` when every line was read and confirmed, else the confirmed ones. */
  async finish(readTo: number | undefined): Promise<void> {
    clearInterval(this.#timer);
    await this.#saving;
    await this.#save(readTo);
  }

  #save(readTo?: number): Promise<void> {
    if (this.#saving) return this.#saving;
    if (this.#window.failure !== undefined) return Promise.resolve();
    const confirmed = this.#window.published;
    while (this.#counted < confirmed) {
      this.#confirmedLine = this.#sentLines.shift() as number;
      this.#counted++;
    }
    const head = this.#head?.();
    if (head !== undefined && head.length > this.#fingerprint.bytes) this.#fingerprint = fingerprintOfBytes(head);
    const line = readTo ?? this.#confirmedLine;
    const fingerprint = this.#fingerprint;
    if (line === this.#saved && fingerprint.hash === this.#savedHash) return Promise.resolve();
    this.#saving = this.#checkpoints
      .save({ line, fingerprintBytes: fingerprint.bytes, fingerprint: fingerprint.hash })
      .then(
        () => {
          this.#saved = line;
          this.#savedHash = fingerprint.hash;
        },
        // Not fatal: the next checkpoint, or the next run, goes on from the last one written.
        (error: unknown) => this.log.warn({ err: error, path: this.#checkpoints.path }, 'could not record how far the file source got'),
      )
      .finally(() => (this.#saving = undefined));
    return this.#saving;
  }
}
