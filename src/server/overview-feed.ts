import type { Overview } from '../observe/overview.js';
import type { Logger } from '../observe/logger.js';
import { toHttpError } from './error-status.js';

/** Where the feed gets an overview from (an `OverviewReader`). */
export interface OverviewSource {
  read(): Promise<Overview>;
}

/** What a subscriber gets after each read: the overview as JSON, or why it could not be read. */
export type OverviewUpdate = { kind: 'overview'; json: string } | { kind: 'error'; json: string };

/**
 * One overview loop for every dashboard watching, whatever their number: while anyone is
 * subscribed, the overview is read once per interval (never two reads at once), serialized once,
 * and handed to each subscriber. With no subscriber left, the loop stops: an idle server sends
 * Redis nothing.
 */
export class OverviewFeed {
  readonly #listeners = new Set<(update: OverviewUpdate) => void>();
  #last: { at: number; json: string } | undefined;
  #reading: Promise<string> | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Ends the loop's wait early (the last subscriber left). */
  #wake: (() => void) | undefined;
  #looping = false;

  constructor(
    private readonly source: OverviewSource,
    /** Time between two reads while someone is subscribed. */
    readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  /** True while the refresh loop runs (someone is subscribed, or the last read is finishing). */
  get running(): boolean {
    return this.#looping;
  }

  /** Subscribers now. */
  get subscribers(): number {
    return this.#listeners.size;
  }

  /**
   * Calls `listener` after every read, starting with the latest overview when it is recent.
   * Returns the function that unsubscribes.
   */
  subscribe(listener: (update: OverviewUpdate) => void): () => void {
    this.#listeners.add(listener);
    if (this.#last !== undefined && Date.now() - this.#last.at < this.intervalMs) listener({ kind: 'overview', json: this.#last.json });
    if (!this.#looping) {
      this.#looping = true;
      void this.#loop();
    }
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0 && this.#timer !== undefined) {
        // Wake the loop now rather than at the next interval: it sees nobody is left and stops.
        clearTimeout(this.#timer);
        this.#timer = undefined;
        this.#wake?.();
      }
    };
  }

  /** The overview as JSON: the latest one if younger than the interval, else a new read. */
  current(): Promise<string> {
    if (this.#last !== undefined && Date.now() - this.#last.at < this.intervalMs) return Promise.resolve(this.#last.json);
    return this.#read();
  }

  #read(): Promise<string> {
    // Concurrent callers share the read in progress.
    this.#reading ??= this.source
      .read()
      .then((overview) => {
        const json = JSON.stringify(overview);
        this.#last = { at: Date.now(), json };
        return json;
      })
      .finally(() => {
        this.#reading = undefined;
      });
    return this.#reading;
  }

  async #loop(): Promise<void> {
    try {
      while (this.#listeners.size > 0) {
        const started = Date.now();
        let update: OverviewUpdate;
        try {
          update = { kind: 'overview', json: await this.#read() };
        } catch (error) {
          const answer = toHttpError(error);
          this.log.warn({ err: error }, `overview: ${answer.message}`);
          update = { kind: 'error', json: JSON.stringify(answer.toJSON()) };
        }
        for (const listener of this.#listeners) listener(update);
        const wait = Math.max(0, this.intervalMs - (Date.now() - started));
        if (this.#listeners.size === 0) break;
        await new Promise<void>((resolve) => {
          this.#wake = resolve;
          this.#timer = setTimeout(resolve, wait);
        });
        this.#wake = undefined;
        this.#timer = undefined;
      }
    } finally {
      this.#looping = false;
    }
  }
}
