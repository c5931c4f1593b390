import { SluiceError } from '../errors.js';
import type { EventEnvelope } from '../stream/event.js';

/**
 * An event as a pipeline hands it to a sink: the envelope (stream, id, time, meta) and its
 * payload, `fields` (fields codec) or `data` (json codec).
 */
export type SinkEvent = EventEnvelope & { fields?: Record<string, string>; data?: unknown };

/** What a sink's `write` may look at besides the events. */
export interface SinkContext {
  /** Aborted when the pipeline is closing or the write timed out: stop early, the batch is retried. */
  signal: AbortSignal;
}

/**
 * A downstream of a pipeline: a database, an HTTP endpoint, another stream, a file.
 *
 * Contract (checked by the shared conformance suite, test/sinks/conformance.ts):
 * - `write` resolves only once every event of the batch is stored in the target; the pipeline
 *   acknowledges the events only then.
 * - `write` may be called again with events it already stored (a redelivery after a crash, a
 *   retried batch): a sink that claims `idempotent` stores each event once (keyed on the event ID
 *   or a configured key), so the effect is exactly once.
 * - Throwing `SinkRejectedError` (or any error whose `retryable` is false) means the events will
 *   never be accepted (a 4xx, a constraint violation): they go to the dead-letter stream. Any
 *   other error is retried with backoff.
 * - `close` flushes and releases connections; `write` is not called after it.
 */
export interface Sink {
  /** A name for logs and metrics, e.g. `sqlite:orders`. */
  readonly name: string;
  /** True when a redelivered event never produces a second effect. */
  readonly idempotent: boolean;
  write(events: readonly SinkEvent[], ctx: SinkContext): Promise<void>;
  close(): Promise<void>;
}

/**
 * The target refused these events for good: they go to the dead-letter stream, not retried.
 *
 * `eventIds`, when set, names the events that were refused; every other event of the batch was
 * stored (a batch with one malformed row stores the rest). Without it, the whole batch was refused.
 */
export class SinkRejectedError extends SluiceError {
  readonly retryable = false;
  readonly eventIds: readonly string[] | undefined;
  /**
   * Why each refused event was refused, by event ID, when the sink knows (a row that does not fit
   * its column): the dead letter of that event then says its own reason, not the batch's.
   */
  readonly reasons: ReadonlyMap<string, string> | undefined;
  constructor(message: string, options?: { cause?: unknown; eventIds?: readonly string[]; reasons?: ReadonlyMap<string, string> }) {
    super('ERR_SINK_REJECTED', message, options);
    this.eventIds = options?.eventIds;
    this.reasons = options?.reasons;
  }
}

/**
 * The target could not take the batch now (down, busy, timed out, a 5xx): retry the batch later.
 * Some events may have been stored already; an idempotent sink stores them once when retried.
 */
export class SinkUnavailableError extends SluiceError {
  readonly retryable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_SINK_UNAVAILABLE', message, options);
  }
}

/** True when a failed `write` should be retried (anything but a rejection, per the contract). */
export function isRetryableSinkError(error: unknown): boolean {
  if (error instanceof SinkRejectedError) return false;
  return (error as { retryable?: unknown } | null)?.retryable !== false;
}
