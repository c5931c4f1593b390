import type { Logger } from '../observe/logger.js';
import type { WorkerEvents } from './worker-events.js';

/** Most entry IDs one reclaim log line lists (the count is always there). */
const MAX_IDS_LOGGED = 20;

/**
 * A worker's own log lines, each bound to its stream, group and consumer (`log` is the worker's
 * child logger) and carrying the entry's `eventId` where there is one.
 *
 * A worker event nobody listens to is logged at its own level (errors at `error`, dead letters at
 * `warn`, reclaims at `info`), so nothing goes unseen by default; once a listener takes it over
 * (`worker.on`: the CLI's summary) the line drops to `debug`, so it is not reported twice. Metrics
 * only watch (`worker.watch`), which leaves the lines as they are. Retries are
 * `debug` lines: a poison entry retries many times before it is dead-lettered.
 */
export class WorkerLog {
  constructor(readonly log: Logger) {}

  /** An `error` event that no listener took. */
  error(payload: WorkerEvents['error']): void {
    const { error, context, eventId } = payload;
    this.log.error(eventId === undefined ? { err: error } : { err: error, eventId }, context);
  }

  deadLettered(payload: WorkerEvents['dead-lettered'], heard: boolean): void {
    const { id, deadLetterId, reason, error, deliveryCount } = payload;
    this.log[heard ? 'debug' : 'warn']({ eventId: id, deadLetterId, reason, deliveryCount, error }, `dead-lettered ${id} (${reason})`);
  }

  reclaimed(payload: WorkerEvents['reclaimed'], heard: boolean): void {
    const { ids, count } = payload;
    const eventIds = ids.length > MAX_IDS_LOGGED ? ids.slice(0, MAX_IDS_LOGGED) : ids;
    this.log[heard ? 'debug' : 'info']({ count, eventIds }, `reclaimed ${count} ${count === 1 ? 'entry' : 'entries'}`);
  }

  retrying(eventId: string, deliveryCount: number, delayMs: number, error: unknown): void {
    if (!this.log.isLevelEnabled('debug')) return;
    this.log.debug({ eventId, deliveryCount, delayMs, err: error }, `retrying ${eventId} in ${Math.round(delayMs)} ms`);
  }

  /**
   * The group's rate limit holds the worker back: no token for its next read (or retry, or
   * reclaim) for `waitMs`. The worker logs when this starts, not every wait (with `max: 100`
   * there can be a hundred waits a second); a `debug` line, as being limited is the limit working.
   */
  rateLimited(waitMs: number, limit: { max: number; perMs: number }): void {
    if (!this.log.isLevelEnabled('debug')) return;
    this.log.debug({ waitMs, max: limit.max, perMs: limit.perMs }, `rate limit reached (${limit.max} per ${limit.perMs} ms for the group): waiting ${waitMs} ms for a token`);
  }
}
