import type { Stream } from '../stream/stream.js';

/**
 * Publishes events without waiting for each, keeping at most `limit` unconfirmed at a time, so a
 * source reading a large file (or generating fast) has bounded memory whatever Redis's pace.
 * Concurrent publishes are sent as pipelined batches by the stream's publisher.
 */
export class PublishWindow {
  readonly #stream: Stream<unknown, unknown>;
  readonly #limit: number;
  #inFlight = 0;
  #published = 0;
  #failure: unknown;
  #wake: (() => void) | undefined;
  readonly #onSettled = (): void => {
    this.#inFlight--;
    this.#published++;
    this.#resume();
  };
  readonly #onFailed = (error: unknown): void => {
    this.#inFlight--;
    this.#failure ??= error;
    this.#resume();
  };

  constructor(stream: Stream<unknown, unknown>, limit = 2000) {
    this.#stream = stream;
    this.#limit = limit;
  }

  /** Events Redis confirmed. */
  get published(): number {
    return this.#published;
  }

  /** The first publish that failed, if any: the caller stops there. */
  get failure(): unknown {
    return this.#failure;
  }

  /** Sends one event; returns a promise only when the window is full (wait for it before the next). */
  publish(event: unknown): Promise<void> | undefined {
    this.#inFlight++;
    this.#stream.publish(event).then(this.#onSettled, this.#onFailed);
    return this.#inFlight >= this.#limit ? this.#room() : undefined;
  }

  /** Waits until every event sent is confirmed or failed. */
  async drain(): Promise<void> {
    while (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#wake = resolve));
  }

  async #room(): Promise<void> {
    while (this.#inFlight >= this.#limit) await new Promise<void>((resolve) => (this.#wake = resolve));
  }

  #resume(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}
