import type { TypedEmitter } from '../observe/typed-emitter.js';

/**
 * What a connection's producers report: subscribe with `sluice.on(name, listener)`. Nothing is
 * measured or built for an event nobody listens to, so publishing pays nothing for them otherwise.
 *
 * @example
 * sluice.on('published', ({ stream, count }) => published.inc({ stream }, count));
 * sluice.on('batch', ({ events, ms }) => batchSize.observe(events));
 * sluice.on('backpressure', ({ stream, action }) => backpressure.inc({ stream, action }));
 */
export interface ProducerEvents {
  /**
   * Publishes to one stream that Redis confirmed, reported once per stream for each pipelined
   * batch when the batch is done. The counts add up to the publishes that resolved with an ID:
   * a publish retried after a reconnect counts in the batch that stored it, one whose idempotency
   * key was already used (nothing written, the first ID returned) counts too, a failed one never.
   */
  published: { stream: string; count: number };
  /**
   * One pipelined batch is done (every publish in it answered, or left it to be retried):
   * `events` publishes were sent in it, `ms` from its write to its last reply.
   */
  batch: { events: number; ms: number };
  /**
   * A publish met a limit. `'wait'`: it waited `waitMs`, then went on; `'reject'`: it was refused
   * (`BackpressureError`, or `TimeoutError` once the producer buffer stayed full for the whole
   * timeout) after `waitMs` (0 when refused at once, `onLimit` / `onFull: 'reject'`). `limit`
   * says which: the producer's own buffer (`publisher.maxBuffered`) or the stream's
   * `backpressure` `maxLen` / `maxLag`.
   */
  backpressure: { stream: string; action: 'wait' | 'reject'; waitMs: number; limit: BackpressureLimit };
}

/** Which limit held a publish back. */
export type BackpressureLimit = 'buffer' | 'max-len' | 'max-lag';

/** The emitter a connection's publisher and backpressure gates report through. */
export type ProducerEmitter = TypedEmitter<ProducerEvents>;
