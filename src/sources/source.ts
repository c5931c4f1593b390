import { SluiceError } from '../errors.js';
import type { Logger } from '../observe/logger.js';
import type { Sluice } from '../sluice.js';
import type { CodecName } from '../stream/codec.js';
import type { ReadFrom } from '../stream/reader.js';
import type { Stream } from '../stream/stream.js';

/** Options every source has. */
interface SourceBase {
  /** The pipeline's input stream: read through the pipeline's group, and written by the other sources. */
  stream: string;
  /**
   * The input stream's codec: `fields` (flat string fields, as the Redis guide writes them) or
   * `json` (one `data` field holding JSON, for nested data).
   * @default 'fields'
   */
  codec?: CodecName;
}

/**
 * Reads an existing stream: whatever producers append to it (`stream.publish`, `sluice publish`,
 * `sluice serve`, redis-cli `XADD`).
 * @example { type: 'stream', stream: 'events:orders' }
 */
export interface StreamSourceConfig extends SourceBase {
  type: 'stream';
  /** The consumer group. @default the pipeline's name */
  group?: string;
  /**
   * Where the group starts when it is created: `'0'` (everything the stream holds), `'$'` (new
   * events only), an ID or an ISO time. Ignored once the group exists: it resumes where it was.
   * @default '0'
   */
  startFrom?: ReadFrom;
}

/**
 * Runs Sluice's HTTP ingest server: `POST /streams/<stream>/events` (JSON or NDJSON) is answered
 * once Redis has the events; the pipeline reads them through its group.
 * @example { type: 'http', stream: 'events:orders', port: 8080, token: '${INGEST_TOKEN}' }
 */
export interface HttpSourceConfig extends SourceBase {
  type: 'http';
  /** TCP port; 0 picks a free one (see `RunningPipeline.source.url`). @default 8080 */
  port?: number;
  /** The interface to listen on; `0.0.0.0` for every one. @default '127.0.0.1' */
  host?: string;
  /** Require `Authorization: Bearer <token>`. Without one, whoever reaches the port may publish. */
  token?: string;
}

/**
 * JSON Lines on standard input: one JSON object per line, one event per object. The source ends
 * at the end of the input.
 * @example { type: 'stdin', stream: 'events:orders' }
 */
export interface StdinSourceConfig extends SourceBase {
  type: 'stdin';
}

/**
 * A JSON Lines file: one JSON object per line, one event per object. The source ends at the end
 * of the file, unless it follows it (`follow: true`); the next run goes on where this one stopped
 * (`resume`).
 * @example { type: 'file', path: 'orders.jsonl', stream: 'events:orders' }
 * @example { type: 'file', path: '/var/log/shop/orders.jsonl', stream: 'events:orders', follow: true }
 */
export interface FileSourceConfig extends SourceBase {
  type: 'file';
  /** The file; a relative path is relative to the current folder, as the sinks' paths are. */
  path: string;
  /**
   * Go on where the last run over this file stopped: a checkpoint in Redis (`{stream}:sources`)
   * records the last line whose event Redis confirmed, so running the pipeline again publishes
   * only what is new (nothing for an unchanged file, the appended lines for one that grew). A file
   * whose first 4 KB changed is a new file, read from its start. `false` reads the whole file
   * every run.
   * @default true
   */
  resume?: boolean;
  /**
   * Keep reading the file as lines are appended to it, as `tail -F` does: after its end, each new
   * complete line is published once its newline is written (a line still being written waits).
   * The source then never ends by itself (`sluice run` keeps running; `--until-idle` does not
   * wait for it); closing the pipeline stops it, recording how far it got.
   *
   * Rotation is followed: a file cut shorter than what was read (`copytruncate`) is read again
   * from its start; when the path names another file (`mv app.log app.log.1` and a new
   * `app.log`), the old file is read to its end, then the new one from its start. A path with no
   * file for a while is waited for. The file must exist when the pipeline starts.
   * @default false
   */
  follow?: boolean;
  /**
   * With `follow`: how often the file is looked at for new lines, truncation and rotation, as a
   * duration (`250ms`, `1s`) or milliseconds. Changes the file system reports (`fs.watch`) are
   * seen sooner; this poll is what works everywhere (network and container file systems).
   * @default '250ms'
   * @example { type: 'file', path: 'app.jsonl', stream: 'events:app', follow: true, pollInterval: '1s' }
   */
  pollInterval?: number | string;
}

/**
 * Generated events, for demos and load: the guide's order events (`preset: 'orders'`, the
 * default) or a `fields` template.
 * @example { type: 'generator', stream: 'events:orders', rate: 50, count: 1000 }
 * @example { type: 'generator', stream: 'events:clicks', fields: { user: 'u{{int 1 100}}', page: '{{pick home,cart,checkout}}' } }
 */
export interface GeneratorSourceConfig extends SourceBase {
  type: 'generator';
  /** Events per second. @default as fast as Redis takes them */
  rate?: number;
  /** Events to publish; then the source ends. @default endless */
  count?: number;
  /** A built-in event shape: `orders`, the guide's `{ order_id, customer_id, amount, status }`. @default 'orders' */
  preset?: 'orders';
  /**
   * A template per field, instead of a preset: text with placeholders `{{seq}}` (1, 2, 3…),
   * `{{int MIN MAX}}`, `{{decimal MIN MAX}}` (two decimals), `{{pick a,b,c}}`, `{{uuid}}` and
   * `{{now}}` (ISO time).
   */
  fields?: Record<string, string>;
}

/** Where a pipeline's events come from. Every source but `stream` publishes into `stream`. */
export type SourceConfig = StreamSourceConfig | HttpSourceConfig | StdinSourceConfig | FileSourceConfig | GeneratorSourceConfig;

export type SourceType = SourceConfig['type'];

/** The source types `createSource` knows. */
export const SOURCE_TYPES: readonly SourceType[] = ['stream', 'http', 'stdin', 'file', 'generator'];

/** What a source works with once the pipeline's group exists. */
export interface SourceContext {
  sluice: Sluice;
  /** The pipeline's input stream, with the source's codec. */
  stream: Stream<unknown, unknown>;
  logger: Logger;
}

/**
 * A running source. Sources other than `stream` publish into the pipeline's input stream and the
 * pipeline reads that stream through its consumer group, so every event gets the same retries,
 * dead letters and reclaim whatever its origin.
 */
export interface Source {
  readonly type: SourceType;
  /** The input stream. */
  readonly stream: string;
  readonly codec: CodecName;
  /** True when the source ends by itself (a file, stdin, a generator with `count`). */
  readonly finite: boolean;
  /** Events published so far (0 for a `stream` source, which publishes nothing). */
  readonly published: number;
  /** Where an `http` source listens, once started. */
  readonly url: string | undefined;
  /**
   * Checks what can be checked before connecting (a file exists and is readable). Throws
   * `InvalidOptionError` naming the key.
   */
  check(): Promise<void>;
  /** Starts producing; resolves once started (an `http` source is listening). */
  start(context: SourceContext): Promise<void>;
  /**
   * Resolves once a finite source has published its last event, rejects with `SourceError` if
   * it could not; never settles for an endless source, nor after `stop()`.
   */
  readonly finished: Promise<void>;
  /** Stops producing and waits for the publishes in flight. Safe to call twice. */
  stop(): Promise<void>;
}

/** A source could not read or publish its input: a line that is not a JSON object, a file gone, Redis refusing. */
export class SourceError extends SluiceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SOURCE', message, options);
  }
}
