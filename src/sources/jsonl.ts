import { createReadStream } from 'node:fs';
import { access, constants, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { InvalidInputError, InvalidOptionError } from '../errors.js';
import { optionError } from '../pipeline/key-path.js';
import type { Logger } from '../observe/logger.js';
import type { Codec, CodecName } from '../stream/codec.js';
import { eventOfLine } from '../stream/json-line.js';
import type { Stream } from '../stream/stream.js';
import { FileCheckpoints, FileProgress, FINGERPRINT_BYTES } from './file-checkpoint.js';
import { FileFollower } from './file-follower.js';
import { PublishWindow } from './publish-window.js';
import { SourceError, type FileSourceConfig, type Source, type SourceContext, type StdinSourceConfig } from './source.js';
import { readSourceBase } from './source-options.js';

/** How often a followed file is looked at when no change was signalled, by default. */
const DEFAULT_POLL_INTERVAL_MS = 250;

/** Where a JSON Lines source reads from, besides its config. */
export interface JsonlSourceOptions {
  /** The input of a `stdin` source (tests pass their own). @default process.stdin */
  input?: NodeJS.ReadableStream;
}

/**
 * JSON Lines from a file or stdin: each line a JSON object, published as one event into the
 * pipeline's input stream. Memory stays bounded whatever the input's size: readline pauses the
 * input while publishes are waiting for Redis (`PublishWindow`). A line that is not a JSON object
 * the codec can store ends the source with `SourceError` naming the line; the events before it
 * are published (and go through the pipeline).
 *
 * A file source with `follow: true` does not end at the end of the file: it publishes each line
 * appended to it, through truncation and rotation (`FileFollower`), until `stop()`.
 */
export class JsonlSource implements Source {
  readonly type: 'file' | 'stdin';
  readonly stream: string;
  readonly codec: CodecName;
  readonly finite: boolean;
  readonly url = undefined;
  /** The file (absolute), or undefined for stdin. */
  readonly path: string | undefined;
  readonly finished: Promise<void>;
  readonly #configPath: string;
  /** The key of `path`, for errors. */
  readonly #atPath: string;
  readonly #input: NodeJS.ReadableStream | undefined;
  #resolve!: () => void;
  #reject!: (error: unknown) => void;
  #window: PublishWindow | undefined;
  #lines: Interface | undefined;
  #stopped = false;
  #loop: Promise<void> | undefined;
  /** A file source that goes on where its last run stopped (`resume`). */
  #resume = false;
  #progress: FileProgress | undefined;
  /** Ms between looks at a followed file; undefined when the file is not followed. */
  readonly #pollIntervalMs: number | undefined;
  #follower: FileFollower | undefined;

  constructor(config: FileSourceConfig | StdinSourceConfig, at = 'source', options: JsonlSourceOptions = {}) {
    const type = config?.type === 'file' ? 'file' : 'stdin';
    const { reader, base } = readSourceBase(config, `a ${type} source`, at, type === 'file' ? ['path', 'resume', 'follow', 'pollInterval'] : []);
    this.type = type;
    this.stream = base.stream;
    this.codec = base.codec;
    this.#atPath = reader.path('path');
    if (type === 'file') {
      this.#configPath = reader.string('path', { required: true });
      this.path = resolve(this.#configPath);
      this.#resume = reader.boolean('resume', true);
      if (reader.boolean('follow', false)) this.#pollIntervalMs = reader.duration('pollInterval', DEFAULT_POLL_INTERVAL_MS, { min: 1 });
      else if (reader.has('pollInterval')) throw new InvalidOptionError(reader.path('pollInterval'), reader.raw('pollInterval'), 'absent unless `follow` is true (it sets how often a followed file is looked at)');
    } else {
      this.#configPath = 'stdin';
      this.#input = options.input;
    }
    this.finite = this.#pollIntervalMs === undefined;
    this.finished = new Promise<void>((done, fail) => {
      this.#resolve = done;
      this.#reject = fail;
    });
    // Awaited by idle(), or by nobody for a pipeline closed early: never an unhandled rejection.
    this.finished.catch(() => undefined);
  }

  get published(): number {
    return this.#window?.published ?? 0;
  }

  /** A file source's file must exist and be readable: found before connecting, with the key. */
  async check(): Promise<void> {
    if (this.path === undefined) return;
    let reason: string | undefined;
    try {
      if (!(await stat(this.path)).isFile()) reason = 'it is not a file';
      else await access(this.path, constants.R_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    }
    if (reason !== undefined) {
      throw optionError(this.#atPath, `Cannot read \`${this.#atPath}\` \`${this.#configPath}\`: ${reason} (expected a JSON Lines file, one JSON object per line)`, this.#configPath);
    }
  }

  async start(context: SourceContext): Promise<void> {
    const window = (this.#window = new PublishWindow(context.stream));
    const follower = (this.#follower =
      this.#pollIntervalMs === undefined || this.path === undefined
        ? undefined
        : await FileFollower.open({ path: this.path, pollIntervalMs: this.#pollIntervalMs, headBytes: FINGERPRINT_BYTES }));
    if (this.#resume && this.path !== undefined) {
      const checkpoints = new FileCheckpoints(context.sluice.connection, this.stream, this.path);
      const point = await checkpoints.resumePoint().catch(async (error: unknown) => {
        await follower?.close();
        throw error;
      });
      if (point.restart !== undefined) context.logger.info({ source: this.type, path: this.path }, `${point.restart}: reading it from the start`);
      else if (point.skip > 0) context.logger.info({ source: this.type, path: this.path, line: point.skip }, `going on after line ${point.skip}, published by an earlier run`);
      this.#progress = new FileProgress(checkpoints, point, window, context.logger, follower && (() => follower.head()));
    }
    let reading: Promise<void>;
    if (follower !== undefined) {
      reading = this.#follow(follower, context.stream, window, context.logger);
    } else {
      const input = this.path === undefined ? (this.#input ?? process.stdin) : createReadStream(this.path);
      this.#lines = createInterface({ input, crlfDelay: Infinity });
      reading = this.#read(this.#lines, input, context.stream, window);
    }
    this.#loop = reading.then(
      () => {
        if (!this.#stopped) this.#resolve();
      },
      (error: unknown) => {
        context.logger.error({ err: error, source: this.type }, 'the source stopped');
        this.#reject(error);
      },
    );
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#lines?.close();
    this.#follower?.stop();
    await this.#loop;
  }

  async #read(lines: Interface, input: NodeJS.ReadableStream, stream: Stream<unknown, unknown>, window: PublishWindow): Promise<void> {
    const label = this.path === undefined ? 'stdin' : this.#configPath;
    const progress = this.#progress;
    const skip = progress?.skip ?? 0;
    let lineNumber = 0;
    let complete = false;
    try {
      for await (const line of lines) {
        lineNumber++;
        if (this.#stopped || window.failure !== undefined) break;
        if (lineNumber <= skip) continue;
        const full = this.#publishLine(line, lineNumber, label, stream, window);
        if (full) await full;
      }
      complete = !this.#stopped && window.failure === undefined;
    } finally {
      lines.close();
      // Our own file stream is closed; stdin is left to its owner.
      if (this.path !== undefined) (input as NodeJS.ReadableStream & { destroy(): void }).destroy();
      await window.drain();
      // Read to its end with every event confirmed: trailing blank lines count as done too.
      await progress?.finish(complete ? lineNumber : undefined);
    }
    if (progress && complete && lineNumber < skip) this.#warnCutShort(progress.log, label, lineNumber, skip);
    if (window.failure !== undefined) throw this.#publishFailure(label, window);
  }

  /**
   * Publishes the lines of a followed file as they are written, until `stop()`. When the file is
   * cut or replaced, what was sent is confirmed before the checkpoint goes over to the file read
   * from then on: no checkpoint ever pairs a line of one file with the fingerprint of another.
   */
  async #follow(follower: FileFollower, stream: Stream<unknown, unknown>, window: PublishWindow, log: Logger): Promise<void> {
    const label = this.#configPath;
    const path = this.path;
    const progress = this.#progress;
    let skip = progress?.skip ?? 0;
    let lineNumber = 0;
    let ended = false;
    try {
      for (let item = await follower.next(); item !== undefined; item = await follower.next()) {
        if (this.#stopped || window.failure !== undefined) break;
        switch (item.type) {
          case 'lines':
            for (const line of item.lines) {
              if (this.#stopped || window.failure !== undefined) break;
              lineNumber++;
              if (lineNumber <= skip) continue;
              const full = this.#publishLine(line, lineNumber, label, stream, window);
              if (full) await full;
            }
            break;
          case 'caught-up':
            // A line held without its newline may be one an earlier run (not following) published.
            if (lineNumber + (item.partial ? 1 : 0) < skip) {
              this.#warnCutShort(log, label, lineNumber, skip);
              skip = lineNumber;
              progress?.restart(lineNumber);
            }
            break;
          case 'truncated':
          case 'replaced':
            await window.drain();
            if (window.failure !== undefined) break;
            log.info(
              { source: this.type, path, lines: lineNumber },
              item.type === 'truncated'
                ? `${label} was truncated: reading it again from its start`
                : `${label} was replaced (rotated): the old file was read to its end, reading the new one from its start`,
            );
            lineNumber = 0;
            skip = 0;
            progress?.restart(0);
            break;
          case 'missing':
            log.info({ source: this.type, path }, `${label} is gone: waiting for a file to be created at its path`);
            break;
        }
      }
      ended = true;
    } catch (error) {
      if (error instanceof SourceError) throw error;
      throw new SourceError(`Following ${label} failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    } finally {
      await follower.close();
      await window.drain();
      // Stopped with every line read so far handled and confirmed: trailing blank lines count as done too.
      await progress?.finish(ended && window.failure === undefined && lineNumber >= skip ? lineNumber : undefined);
    }
    if (window.failure !== undefined) throw this.#publishFailure(label, window);
  }

  /**
   * Publishes line `lineNumber` (a blank one is skipped); a promise while the window is full, to
   * await before reading on. A line that is no event ends the source with `SourceError`.
   */
  #publishLine(line: string, lineNumber: number, label: string, stream: Stream<unknown, unknown>, window: PublishWindow): Promise<void> | undefined {
    if (line.trim() === '') return undefined;
    const event = eventOfNumberedLine(line, lineNumber, label, stream.codec);
    this.#progress?.sent(lineNumber);
    return window.publish(event);
  }

  /** The file holds fewer lines than an earlier run published from it. */
  #warnCutShort(log: Logger, label: string, lines: number, skip: number): void {
    log.warn(
      { source: this.type, path: this.path, lines, line: skip },
      `${label} has ${lines} lines, fewer than the ${skip} an earlier run published: it was cut short; lines added to it from now on will be published`,
    );
  }

  #publishFailure(label: string, window: PublishWindow): SourceError {
    const failure = window.failure;
    return new SourceError(`Publishing ${label} to ${this.stream} failed after ${window.published} events: ${(failure as Error)?.message ?? String(failure)}`, { cause: failure });
  }
}

/** The event of a line, or `SourceError` naming the line when it is not a JSON object the codec can store. */
function eventOfNumberedLine(line: string, lineNumber: number, label: string, codec: Codec): unknown {
  try {
    return eventOfLine(line, codec);
  } catch (error) {
    if (error instanceof InvalidInputError) throw new SourceError(`Line ${lineNumber} of ${label}: ${error.message}`, { cause: error });
    throw error;
  }
}
