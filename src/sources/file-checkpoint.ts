import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { RedisConnection } from '../redis/connection.js';
import { helperKey } from '../stream/stream-name.js';

/**
 * How much of a file's start identifies it, as log shippers fingerprint the files they follow: the
 * same path holding other content (a file replaced, rotated, rewritten) is read from its start.
 */
const FINGERPRINT_BYTES = 4096;

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
  /** The file's fingerprint now, saved with every checkpoint of this run. */
  fingerprint: { bytes: number; hash: string };
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
export async function fingerprintOf(path: string, limit: number): Promise<{ bytes: number; hash: string }> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(limit);
    let bytes = 0;
    while (bytes < limit) {
      const { bytesRead } = await file.read(buffer, bytes, limit - bytes, bytes);
      if (bytesRead === 0) break;
      bytes += bytesRead;
    }
    return { bytes, hash: createHash('sha256').update(buffer.subarray(0, bytes)).digest('hex') };
  } finally {
    await file.close();
  }
}
