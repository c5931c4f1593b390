import { ClosedError } from '../errors.js';
import { InFlight } from './in-flight.js';
import type { SqlAdapter } from './sql-adapter.js';

/**
 * The life of a sink that writes to one database: writes are refused once it is closing, `close`
 * waits for the writes in progress and then releases the database (only if the sink opened it),
 * and the preparation (CREATE TABLE, checks) runs once, again after a failure.
 */
export class DatabaseSinkLife {
  readonly #inFlight = new InFlight();
  #ready: Promise<void> | undefined;
  #closed: Promise<void> | undefined;

  constructor(
    private readonly name: string,
    readonly db: SqlAdapter,
    private readonly ownsDb: boolean,
  ) {}

  /** Runs a write unless the sink is closed; `close` waits for it. */
  write(work: () => Promise<void>): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError(`The sink ${this.name}`));
    return this.#inFlight.track(work());
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      await this.#inFlight.settled();
      if (this.ownsDb) await this.db.close();
    })();
    return this.#closed;
  }

  /** Runs `prepare` once; after a failure the next call tries again (the database may be back). */
  prepare(prepare: () => Promise<void>): Promise<void> {
    this.#ready ??= prepare().catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }
}
