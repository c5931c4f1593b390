import type { Span } from '@opentelemetry/api';
import type { Logger } from '../observe/logger.js';
import type { HandlerContext } from './worker.js';

/** What an attempt needs from its worker: one object per worker, shared by every attempt. */
export interface AttemptOwner {
  readonly group: string;
  readonly consumer: string;
  /** The worker's logger, bound to its stream, group and consumer. */
  readonly log: Logger;
  deadLetter(id: string, reason: string, error: string, deliveryCount: number): Promise<void>;
}

/**
 * One run of the handler on one entry, and the `ctx` the handler gets. A small class rather than
 * an object literal with closures: it is built for every event, and most handlers never touch
 * `signal`, `log` or `deadLetter`, so those are made only on first use.
 */
export class Attempt<E extends { id: string }> implements HandlerContext {
  readonly group: string;
  readonly consumer: string;
  /** Set once the handler called `ctx.deadLetter()`: its outcome is then ignored. @internal */
  deadLettered = false;
  /** The handler's span while a tracer is registered, ended with the attempt. @internal */
  span: Span | undefined = undefined;
  #controller: AbortController | undefined;
  #log: Logger | undefined;
  readonly #owner: AttemptOwner;

  constructor(
    owner: AttemptOwner,
    /** @internal */
    readonly event: E,
    readonly deliveryCount: number,
  ) {
    this.#owner = owner;
    this.group = owner.group;
    this.consumer = owner.consumer;
  }

  get signal(): AbortSignal {
    return (this.#controller ??= new AbortController()).signal;
  }

  /** A child of the worker's logger with the event's ID, made on first use. */
  get log(): Logger {
    return (this.#log ??= this.#owner.log.child({ eventId: this.event.id }));
  }

  /** A getter, so that `const { deadLetter } = ctx` works as it did with a plain object. */
  get deadLetter(): (reason: string) => Promise<void> {
    return (reason: string) => {
      this.deadLettered = true;
      return this.#owner.deadLetter(this.event.id, String(reason), `dead-lettered by the handler: ${String(reason)}`, this.deliveryCount);
    };
  }

  /**
   * Aborts `signal` (a timeout, or close() giving up on the handler). Makes the controller if
   * needed: a handler that first reads `ctx.signal` afterwards must see it aborted.
   * @internal
   */
  abort(reason: unknown): void {
    (this.#controller ??= new AbortController()).abort(reason);
  }
}
