import type { ReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { InvalidInputError, show, SluiceError } from '../errors.js';
import type { PublishOptions, Stream } from '../index.js';
import { eventOfLine } from '../stream/json-line.js';
import { UsageError } from './options.js';
import { ProgressBar } from './progress.js';

/**
 * Publishes a JSON Lines file (or stdin) as it is read: one JSON object per line, one event per
 * object. Memory stays bounded whatever the file's size: readline pauses the input while its
 * queue is full, and at most `window` publishes are awaiting Redis at any time (the library
 * pipelines them in batches).
 */
export interface PublishFileOptions {
  /** A file path, or `-` for stdin. */
  path: string;
  /** Metadata for every event (`--key`, `--type`). */
  meta?: PublishOptions;
  /**
   * `--idempotency-field NAME`: each event's idempotency key is the value of this field of its
   * line, so publishing the same file again (after a failure half-way) writes nothing twice.
   */
  idempotencyField?: string;
  /**
   * Most publishes awaiting Redis at once.
   * @default 4000
   */
  window?: number;
}

export interface PublishFileResult {
  published: number;
  seconds: number;
  eventsPerSecond: number;
}

const DEFAULT_WINDOW = 4000;

export async function publishFile(stream: Stream<unknown, unknown>, options: PublishFileOptions): Promise<PublishFileResult> {
  const window = options.window ?? DEFAULT_WINDOW;
  const label = options.path === '-' ? 'stdin' : options.path;
  const { input, size } = await openInput(options.path);
  const lines = createInterface({ input, crlfDelay: Infinity });

  let published = 0;
  let inFlight = 0;
  // Woken at each settled publish, to refill the window or to finish.
  let wake: (() => void) | undefined;
  // The first publish Redis refused (or that timed out): reading stops at the next line.
  let refused: { line: number; error: unknown } | undefined;
  const settled = () => {
    inFlight--;
    const resume = wake;
    wake = undefined;
    resume?.();
  };
  const nextSettled = () => new Promise<void>((resolve) => (wake = resolve));

  const bar = new ProgressBar(
    { done: () => published, fraction: size === undefined ? undefined : () => (input as ReadStream).bytesRead / size },
    { label: stream.name },
  ).start();
  const started = performance.now();
  let lineNumber = 0;
  let badLine: Error | undefined;
  try {
    for await (const line of lines) {
      lineNumber++;
      if (refused) break;
      if (line.trim() === '') continue;
      const where = `Line ${lineNumber} of ${label}`;
      const event = parseLine(stream, line, where);
      const meta = options.idempotencyField === undefined ? options.meta : { ...options.meta, idempotencyKey: idempotencyKeyOf(event, options.idempotencyField, where) };
      const at = lineNumber;
      inFlight++;
      stream.publish(event, meta).then(
        () => {
          published++;
          settled();
        },
        (error: unknown) => {
          refused ??= { line: at, error };
          settled();
        },
      );
      while (inFlight >= window) await nextSettled();
    }
  } catch (error) {
    badLine = error as Error;
  } finally {
    lines.close();
    input.destroy();
  }
  // Everything sent before the bad line is awaited, so the count below is what Redis holds.
  while (inFlight > 0) await nextSettled();
  bar.stop();
  // A refused publish comes from an earlier line than a bad line found after it: reported first.
  if (refused) {
    const { line, error } = refused;
    const message = `Publishing line ${line} of ${label} failed: ${(error as Error).message}; ${events(published)} ${published === 1 ? 'was' : 'were'} published`;
    if (error instanceof InvalidInputError) throw new UsageError(message);
    throw new SluiceError(error instanceof SluiceError ? error.code : 'ERR_UNEXPECTED', message, { cause: error });
  }
  if (badLine) {
    if (!(badLine instanceof InvalidInputError)) throw badLine;
    throw new UsageError(`${badLine.message}; ${events(published)} before it ${published === 1 ? 'was' : 'were'} published`);
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    published,
    seconds: Math.round(seconds * 1000) / 1000,
    eventsPerSecond: seconds > 0 ? Math.round(published / seconds) : published,
  };
}

/**
 * The idempotency key of an event: the value of its field `field` (`--idempotency-field`), a
 * non-empty string or a number. `where` names the event in the error (`Line 3 of orders.jsonl`).
 */
export function idempotencyKeyOf(event: unknown, field: string, where: string): string {
  const has = event !== null && typeof event === 'object' && Object.hasOwn(event, field);
  if (!has) throw new UsageError(`${where} has no field \`${field}\` to take its idempotency key from (\`--idempotency-field\`)`);
  const value = (event as Record<string, unknown>)[field];
  if ((typeof value === 'string' && value !== '') || (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'bigint') return String(value);
  throw new UsageError(`${where}: expected the field \`${field}\` (\`--idempotency-field\`) to be a non-empty string or a number, got ${show(value)}`);
}

function events(n: number): string {
  return `${n} event${n === 1 ? '' : 's'}`;
}

/** One line as an event (see `eventOfLine`), with the line's place in the error. */
function parseLine(stream: Stream<unknown, unknown>, line: string, where: string): unknown {
  try {
    return eventOfLine(line, stream.codec);
  } catch (error) {
    if (error instanceof InvalidInputError) throw new UsageError(`${where}: ${error.message}`);
    throw error;
  }
}

async function openInput(path: string): Promise<{ input: NodeJS.ReadableStream & { destroy(): void }; size: number | undefined }> {
  if (path === '-') return { input: process.stdin, size: undefined };
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new UsageError(`Cannot read \`--file\` \`${path}\`: ${reason}`);
  }
  const info = await handle.stat().catch(async (error: unknown) => {
    await handle.close();
    throw error;
  });
  if (info.isDirectory()) {
    await handle.close();
    throw new UsageError(`Cannot read \`--file\` \`${path}\`: it is a folder`);
  }
  // A FIFO or a device has no meaningful size; only a regular file gets a percentage.
  const size = info.isFile() && info.size > 0 ? info.size : undefined;
  return { input: handle.createReadStream(), size };
}
