import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ClosedError } from '../errors.js';
import { eventJson } from './event-json.js';
import { InFlight } from './in-flight.js';
import { OptionReader } from './options.js';
import { SinkUnavailableError, type Sink, type SinkContext, type SinkEvent } from './sink.js';

/** Options of the JSONL file sink. */
export interface JsonlFileSinkOptions {
  /** The file events are appended to, one JSON object per line (created if missing). */
  path: string;
  /**
   * fsync the file after every batch: a write resolves only once the lines are on disk, so not
   * even a machine crash loses them. Without it, a process crash loses nothing, a power cut may
   * lose the last batches.
   * @default false
   */
  fsync?: boolean;
  /** Create the file's folder if missing. @default true */
  mkdir?: boolean;
}

const OPTION_NAMES = ['path', 'fsync', 'mkdir'] as const;

/**
 * Appends events to a file as JSON lines (`{"stream","id","time","fields"|"data","meta"?}`).
 * Batches are written whole, one after another; a batch that fails half-way is cut off again,
 * so the file never keeps a partial line. Not idempotent: a redelivered event is appended again
 * (dedupe on `stream` + `id` when reading the file). One writer per file.
 *
 * @example
 * new JsonlFileSink({ path: 'archive/orders.jsonl', fsync: true })
 */
export class JsonlFileSink implements Sink {
  readonly name: string;
  readonly idempotent = false;
  readonly path: string;
  readonly #fsync: boolean;
  readonly #mkdir: boolean;
  readonly #inFlight = new InFlight();
  #handle: FileHandle | undefined;
  /** The file's length after the last complete batch. */
  #size = 0;
  /** The file ends without a newline (a crash cut a line): the next batch starts one. */
  #needsNewline = false;
  #queue: Promise<unknown> = Promise.resolve();
  #closed: Promise<void> | undefined;

  /**
   * @param options the file and how to write it
   * @param at where the options came from, for error messages (`pipelines.orders.sinks[0]`)
   */
  constructor(options: JsonlFileSinkOptions, at = '') {
    const reader = new OptionReader(options, 'a jsonl file sink', at);
    reader.only(OPTION_NAMES);
    this.path = reader.string('path', { required: true });
    this.name = `file:${this.path}`;
    this.#fsync = reader.boolean('fsync', false);
    this.#mkdir = reader.boolean('mkdir', true);
  }

  write(events: readonly SinkEvent[], ctx: SinkContext): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError(`The sink ${this.name}`));
    if (ctx.signal.aborted) return Promise.reject(new SinkUnavailableError(`${this.name}: the write was aborted before it started`, { cause: ctx.signal.reason }));
    if (events.length === 0) return Promise.resolve();
    const text = events.map((event) => JSON.stringify(eventJson(event))).join('\n') + '\n';
    // Batches are appended one at a time, so a failed one can be cut off without touching another.
    const run = this.#queue.then(() => this.#append(text));
    this.#queue = run.catch(() => undefined);
    return this.#inFlight.track(run);
  }

  /** Waits for the batches being written, then closes the file. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#inFlight.settled();
      await this.#handle?.close();
      this.#handle = undefined;
    })();
    return this.#closed;
  }

  async #append(text: string): Promise<void> {
    let handle: FileHandle;
    try {
      handle = await this.#open();
    } catch (error) {
      throw new SinkUnavailableError(`${this.name}: cannot open the file: ${(error as Error).message}`, { cause: error });
    }
    const data = Buffer.from(this.#needsNewline ? `\n${text}` : text);
    try {
      let written = 0;
      while (written < data.length) written += (await handle.write(data, written, data.length - written)).bytesWritten;
      if (this.#fsync) await handle.datasync();
      this.#size += data.length;
      this.#needsNewline = false;
    } catch (error) {
      try {
        await handle.truncate(this.#size);
      } catch {
        this.#needsNewline = true;
      }
      throw new SinkUnavailableError(`${this.name}: cannot write the file: ${(error as Error).message}`, { cause: error });
    }
  }

  async #open(): Promise<FileHandle> {
    if (this.#handle) return this.#handle;
    if (this.#mkdir) await mkdir(dirname(resolve(this.path)), { recursive: true });
    const handle = await open(this.path, 'a+');
    try {
      const { size } = await handle.stat();
      this.#size = size;
      if (size > 0) {
        const last = Buffer.alloc(1);
        await handle.read(last, 0, 1, size - 1);
        this.#needsNewline = last[0] !== 0x0a;
      }
    } catch (error) {
      await handle.close();
      throw error;
    }
    this.#handle = handle;
    return handle;
  }
}
