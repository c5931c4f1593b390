import { createReadStream } from 'node:fs';
import { access, constants, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { InvalidInputError } from '../errors.js';
import { optionError } from '../pipeline/key-path.js';
import type { CodecName } from '../stream/codec.js';
import { eventOfLine } from '../stream/json-line.js';
import type { Stream } from '../stream/stream.js';
import { FileCheckpoints, FileProgress } from './file-checkpoint.js';
import { PublishWindow } from './publish-window.js';
import { SourceError, type FileSourceConfig, type Source, type SourceContext, type StdinSourceConfig } from './source.js';
import { readSourceBase } from './source-options.js';

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
 */
export class JsonlSource implements Source {
  readonly type: 'file' | 'stdin';
  readonly stream: string;
  readonly codec: CodecName;
  readonly finite = true;
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

  constructor(config: FileSourceConfig | StdinSourceConfig, at = 'source', options: JsonlSourceOptions = {}) {
    const type = config?.type === 'file' ? 'file' : 'stdin';
    const { reader, base } = readSourceBase(config, `a ${type} source`, at, type === 'file' ? ['path', 'resume'] : []);
    this.type = type;
    this.stream = base.stream;
    this.codec = base.codec;
    this.#atPath = reader.path('path');
    if (type === 'file') {
      this.#configPath = reader.string('path', { required: true });
      this.path = resolve(this.#configPath);
      this.#resume = reader.boolean('resume', true);
    } else {
      this.#configPath = 'stdin';
      this.#input = options.input;
    }
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
    if (this.#resume && this.path !== undefined) {
      const checkpoints = new FileCheckpoints(context.sluice.connection, this.stream, this.path);
      const point = await checkpoints.resumePoint();
      if (point.restart !== undefined) context.logger.info({ source: this.type, path: this.path }, `${point.restart}: reading it from the start`);
      else if (point.skip > 0) context.logger.info({ source: this.type, path: this.path, line: point.skip }, `going on after line ${point.skip}, published by an earlier run`);
      this.#progress = new FileProgress(checkpoints, point, window, context.logger);
    }
    const input = this.path === undefined ? (this.#input ?? process.stdin) : createReadStream(this.path);
    this.#lines = createInterface({ input, crlfDelay: Infinity });
    this.#loop = this.#read(this.#lines, input, context.stream, window).then(
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
        if (lineNumber <= skip || line.trim() === '') continue;
        let event: unknown;
        try {
          event = eventOfLine(line, stream.codec);
        } catch (error) {
          if (error instanceof InvalidInputError) throw new SourceError(`Line ${lineNumber} of ${label}: ${error.message}`, { cause: error });
          throw error;
        }
        progress?.sent(lineNumber);
        const full = window.publish(event);
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
    if (progress && complete && lineNumber < skip) {
      progress.log.warn(
        { source: this.type, path: this.path, lines: lineNumber, line: skip },
        `${label} has ${lineNumber} lines, fewer than the ${skip} an earlier run published: it was cut short; lines added to it from now on will be published`,
      );
    }
    if (window.failure !== undefined) {
      const failure = window.failure;
      throw new SourceError(`Publishing ${label} to ${this.stream} failed after ${window.published} events: ${(failure as Error)?.message ?? String(failure)}`, { cause: failure });
    }
  }
}
