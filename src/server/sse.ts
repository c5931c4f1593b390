import type { ServerResponse } from 'node:http';
import { InvalidOptionError } from '../errors.js';
import type { RequestContext } from './respond.js';

/**
 * Server-sent events (text/event-stream) for the dashboard's live views. One timer serves every
 * open stream, whatever their number: it sends the heartbeat comments that keep proxies from
 * closing an idle connection, and ends every stream once the server starts closing (an open
 * stream is a request in flight, which a graceful close would otherwise wait out).
 */

/** A heartbeat comment this often, on every open stream. */
const HEARTBEAT_MS = 15_000;
/** How often the shared timer looks at the server's state. */
const TICK_MS = 500;
/** What a client's EventSource waits before reconnecting after the stream ended. */
const RETRY_MS = 2000;

/** The shared timer's intervals. */
export interface SseTimingOptions {
  /**
   * Milliseconds between two heartbeat comments (`: heartbeat`) on each open stream, counted in
   * whole ticks (at least one). Proxies close a connection idle for longer than their read timeout
   * (nginx: 60 s), so keep it well below that.
   * @default 15000
   * @example 5000
   */
  heartbeatMs?: number;
  /**
   * Milliseconds between two looks of the shared timer: how soon open streams are ended once the
   * server is closing.
   * @default 500
   * @example 100
   */
  tickMs?: number;
}

function positiveMs(option: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) throw new InvalidOptionError(option, value, 'a number of milliseconds > 0');
  return value;
}

/** One open event stream to one client. */
export interface SseStream {
  /** Aborted once the stream is over: the client went away, or the server ended it. */
  readonly signal: AbortSignal;
  /**
   * True while the client has not taken what was sent (the socket's buffer is full): a producer
   * that can drop (the overview, sent again a second later) skips the event, one that cannot
   * (the tail) waits for `drained()`.
   */
  readonly congested: boolean;
  /**
   * Sends one event; `data` must be one line (JSON is). With `id`, a client's EventSource sends it
   * back as `Last-Event-ID` when it reconnects, so the route can resume after it.
   */
  send(event: string, data: string, id?: string): void;
  /** Resolves once the client has taken what was sent, or the stream is over. */
  drained(): Promise<void>;
  /** Ends the stream (the response is finished). Safe to call twice. */
  end(): void;
  /** Resolves once the stream is over. */
  readonly done: Promise<void>;
}

/** The open event streams of a server. */
export class SseConnections {
  readonly #open = new Set<OpenStream>();
  #timer: NodeJS.Timeout | undefined;
  #ticks = 0;
  readonly #tickMs: number;
  /** Ticks between two heartbeats. */
  readonly #heartbeatTicks: number;

  /**
   * @param closing true once the server is closing: every stream is then ended.
   * @param timing the shared timer's intervals (shorter in tests).
   */
  constructor(
    private readonly closing: () => boolean,
    timing: SseTimingOptions = {},
  ) {
    this.#tickMs = positiveMs('tickMs', timing.tickMs, TICK_MS);
    const heartbeatMs = positiveMs('heartbeatMs', timing.heartbeatMs, HEARTBEAT_MS);
    this.#heartbeatTicks = Math.max(1, Math.round(heartbeatMs / this.#tickMs));
  }

  /** Streams open now. */
  get size(): number {
    return this.#open.size;
  }

  /** Answers the request with an event stream (status 200, headers sent at once). */
  open(ctx: RequestContext): SseStream {
    const stream = new OpenStream(ctx.res, () => this.#forget(stream));
    this.#open.add(stream);
    this.#timer ??= setInterval(() => this.#tick(), this.#tickMs).unref();
    return stream;
  }

  #forget(stream: OpenStream): void {
    this.#open.delete(stream);
    if (this.#open.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  #tick(): void {
    if (this.closing()) {
      for (const stream of [...this.#open]) stream.end();
      return;
    }
    if (++this.#ticks % this.#heartbeatTicks !== 0) return;
    for (const stream of this.#open) if (!stream.congested) stream.comment('heartbeat');
  }
}

class OpenStream implements SseStream {
  readonly #controller = new AbortController();
  readonly done: Promise<void>;
  #resolveDone!: () => void;

  constructor(
    private readonly res: ServerResponse,
    private readonly onOver: () => void,
  ) {
    this.done = new Promise((resolve) => (this.#resolveDone = resolve));
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      // Proxies (nginx) would otherwise hold events back to fill their buffers.
      'X-Accel-Buffering': 'no',
    });
    res.write(`retry: ${RETRY_MS}\n: connected\n\n`);
    // 'close' comes when the client goes away, and after end(): either way the stream is over.
    res.once('close', () => this.#over());
    // A client gone before the stream opened (while the route was still asking Redis) sent its
    // 'close' already. Checked on the next tick, once the stream is registered.
    if (res.destroyed || res.socket === null || res.socket.destroyed) queueMicrotask(() => this.#over());
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get congested(): boolean {
    return this.res.writableNeedDrain;
  }

  send(event: string, data: string, id?: string): void {
    if (this.#controller.signal.aborted) return;
    this.res.write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${data}\n\n`);
  }

  comment(text: string): void {
    if (this.#controller.signal.aborted) return;
    this.res.write(`: ${text}\n\n`);
  }

  drained(): Promise<void> {
    if (!this.congested || this.#controller.signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = () => {
        this.res.off('drain', finish);
        this.#controller.signal.removeEventListener('abort', finish);
        resolve();
      };
      this.res.once('drain', finish);
      this.#controller.signal.addEventListener('abort', finish, { once: true });
    });
  }

  end(): void {
    if (this.#controller.signal.aborted) return;
    this.res.end();
    this.#over();
  }

  #over(): void {
    if (this.#controller.signal.aborted) return;
    this.#controller.abort();
    this.onOver();
    this.#resolveDone();
  }
}
