import type { EventEnvelope } from '../stream/event.js';

/** What a worker reports. Subscribe with `worker.on(name, listener)`. */
export interface WorkerEvents<E = EventEnvelope> {
  /** The handler succeeded; the entry is acknowledged (the XACK is batched and follows shortly). */
  processed: { event: E; deliveryCount: number; durationMs: number };
  /** One attempt failed. */
  failed: { event: E; deliveryCount: number; error: unknown };
  /** A failed entry will be delivered again after `delayMs`. */
  retrying: { event: E; deliveryCount: number; delayMs: number; error: unknown };
  /** Entries taken over from consumers that stopped (or this consumer's own, after a restart). */
  reclaimed: { ids: string[]; count: number };
  /**
   * An entry was moved to the dead-letter stream (and acknowledged, in one step). `deliveryCount`
   * is -1 when unknown: the payload vanished while pending on a consumer that stopped.
   */
  'dead-lettered': { id: string; deadLetterId: string; reason: DeadLetterReason | string; error: string; deliveryCount: number };
  /**
   * Something went wrong outside a handler (Redis unreachable, group re-created…); the worker
   * carries on. `eventId` names the entry concerned, when there is one. Nobody listening: logged.
   */
  error: { error: unknown; context: string; eventId?: string };
  /** The group has nothing undelivered and nothing pending. */
  idle: Record<string, never>;
  /**
   * The group's `rateLimit` had no token left: this worker waits `waitMs` before it reads, retries
   * or reclaims again. Reported at every such wait (only with `rateLimit`).
   */
  'rate-limited': { waitMs: number };
}

/** Why an entry was dead-lettered. */
export type DeadLetterReason =
  /** The handler failed `maxDeliveries` times. */
  | 'max-deliveries'
  /** The handler threw `NonRetryableError`. */
  | 'non-retryable'
  /** The entry was trimmed or deleted while pending: its payload is gone. */
  | 'missing'
  /** The codec could not decode the entry. */
  | 'undecodable'
  /** The entry failed the stream's schema. */
  | 'schema';

// Moved to observe/ so that producers (stream/, flow/) report through the same emitter.
export { TypedEmitter } from '../observe/typed-emitter.js';
