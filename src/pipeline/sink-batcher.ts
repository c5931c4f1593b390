import { NonRetryableError } from '../consumer/worker.js';
import type { Logger } from '../observe/logger.js';
import { isRetryableSinkError, SinkRejectedError, type Sink, type SinkEvent } from '../sinks/sink.js';

/**
 * How a batch ended when it did not simply succeed: the sink refused some of its events for good
 * (`SinkRejectedError` with `eventIds`) or all of them. `check(id)` throws for a refused event.
 * A retryable failure is not an outcome: the batch's promise rejects with it instead.
 */
export class BatchRejection {
  readonly #ids: ReadonlySet<string> | undefined;
  readonly #sink: string;
  readonly #error: SinkRejectedError | Error;

  constructor(sink: string, error: SinkRejectedError | Error, ids: readonly string[] | undefined) {
    this.#ids = ids === undefined ? undefined : new Set(ids);
    this.#sink = sink;
    this.#error = error;
  }

  /**
   * Throws `NonRetryableError` (→ dead letter) if the sink refused `id`, with the event's own
   * reason when the sink gave one, else the sink's message for the batch.
   */
  check(id: string): void {
    if (this.#ids !== undefined && !this.#ids.has(id)) return;
    const reason = (this.#error instanceof SinkRejectedError ? this.#error.reasons?.get(id) : undefined) ?? this.#error.message;
    throw new NonRetryableError(`${this.#sink} refused the event: ${reason}`, { cause: this.#error });
  }
}

export interface SinkBatcherOptions {
  /** Events per write. */
  size: number;
  /** The longest the first event of a batch waits for the batch to fill, in ms. */
  lingerMs: number;
  /** Where failed writes are reported. */
  logger: Logger;
  /** Called after each successful write with the number of events the sink stored. */
  onWritten?: (count: number) => void;
}

interface Batch {
  events: SinkEvent[];
  done: Promise<BatchRejection | undefined>;
  resolve: (outcome: BatchRejection | undefined) => void;
  reject: (error: unknown) => void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Groups the events a consumer-group worker hands over one at a time into the batches a sink
 * writes. `add(event)` returns the batch's promise: it resolves once the sink stored the batch
 * (then the worker acknowledges the event), resolves with a `BatchRejection` when the sink refused
 * events for good (the refused ones are dead-lettered, the others acknowledged), and rejects with
 * the sink's error when the write may succeed later (every event of the batch is retried with
 * backoff, its delivery count kept in Redis's PEL).
 *
 * A batch is written once `size` events wait, or `linger` after its first event: one timer per
 * batch, one promise per batch, none per event. Batches are written as they fill, several at once
 * if the sink is slower than the stream: the worker's `concurrency` bounds how many events wait.
 */
export class SinkBatcher {
  readonly sink: Sink;
  readonly #size: number;
  readonly #lingerMs: number;
  readonly #logger: Logger;
  readonly #onWritten: ((count: number) => void) | undefined;
  readonly #abort = new AbortController();
  readonly #writing = new Set<Promise<void>>();
  #batch: Batch | undefined;
  #closing = false;
  /** The last failure logged, so that an outage is logged once, not once per batch. */
  #failing = false;

  constructor(sink: Sink, options: SinkBatcherOptions) {
    this.sink = sink;
    this.#size = options.size;
    this.#lingerMs = options.lingerMs;
    this.#logger = options.logger;
    this.#onWritten = options.onWritten;
  }

  /** Events waiting in the batch being filled. */
  get pending(): number {
    return this.#batch?.events.length ?? 0;
  }

  /** Batches being written now. */
  get writing(): number {
    return this.#writing.size;
  }

  /**
   * Adds an event to the batch being filled and returns that batch's outcome (see the class).
   * The caller calls `outcome?.check(event.id)` once it resolves.
   */
  add(event: SinkEvent): Promise<BatchRejection | undefined> {
    let batch = this.#batch;
    if (batch === undefined) {
      batch = this.#open();
      this.#batch = batch;
      // Closing: nothing more is coming, so nothing is worth waiting for.
      if (!this.#closing) batch.timer = setTimeout(this.#onLinger, this.#lingerMs);
      else queueMicrotask(this.#onLinger);
    }
    batch.events.push(event);
    if (batch.events.length >= this.#size) this.#flush();
    return batch.done;
  }

  /** Writes the batch being filled now, whatever its size. */
  flush(): void {
    this.#flush();
  }

  /**
   * From now on, batches are written without lingering (what waits now at once): nothing more
   * is coming. Call when the worker starts closing, so its last events are not held back.
   */
  beginClose(): void {
    this.#closing = true;
    this.#flush();
  }

  /** Writes what waits now (see `beginClose`) and waits for every write in flight. */
  async drain(): Promise<void> {
    this.beginClose();
    while (this.#writing.size > 0) await Promise.allSettled([...this.#writing]);
  }

  /** Aborts the writes in flight (their `ctx.signal`): a close that ran out of time. */
  abort(reason?: unknown): void {
    this.#abort.abort(reason);
  }

  readonly #onLinger = (): void => this.#flush();

  #open(): Batch {
    let resolve!: Batch['resolve'];
    let reject!: Batch['reject'];
    const done = new Promise<BatchRejection | undefined>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Every event awaits it; a batch whose events were all abandoned must not crash the process.
    done.catch(() => undefined);
    return { events: [], done, resolve, reject, timer: undefined };
  }

  #flush(): void {
    const batch = this.#batch;
    if (batch === undefined) return;
    this.#batch = undefined;
    if (batch.timer !== undefined) clearTimeout(batch.timer);
    const writing = this.#write(batch);
    this.#writing.add(writing);
    void writing.finally(() => this.#writing.delete(writing));
  }

  async #write(batch: Batch): Promise<void> {
    const { events } = batch;
    try {
      await this.sink.write(events, { signal: this.#abort.signal });
    } catch (error) {
      if (!isRetryableSinkError(error)) {
        const ids = error instanceof SinkRejectedError ? error.eventIds : undefined;
        const refused = ids?.length ?? events.length;
        this.#onWritten?.(events.length - refused);
        this.#logger.warn({ sink: this.sink.name, events: events.length, refused, err: error }, `${this.sink.name} refused ${refused} of ${events.length} events: they go to the dead-letter stream`);
        batch.resolve(new BatchRejection(this.sink.name, error as Error, ids));
        return;
      }
      if (!this.#failing) {
        this.#failing = true;
        this.#logger.warn({ sink: this.sink.name, events: events.length, err: error }, `writing to ${this.sink.name} failed; the events are retried with backoff`);
      }
      batch.reject(error);
      return;
    }
    if (this.#failing) {
      this.#failing = false;
      this.#logger.info({ sink: this.sink.name }, `writing to ${this.sink.name} works again`);
    }
    this.#onWritten?.(events.length);
    batch.resolve(undefined);
  }
}
