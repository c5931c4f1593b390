import type { RedisConnection } from '../redis/connection.js';

/**
 * Batches acknowledgements: every ID acked in the same tick goes out in one `XACK key group id…`.
 * XACK is idempotent, so a batch that failed with the connection is simply sent again.
 */
export class Acker {
  #ids: string[] = [];
  #scheduled = false;
  #inFlight: Promise<void> | undefined;

  constructor(
    private readonly conn: RedisConnection,
    private readonly stream: string,
    private readonly group: string,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Queues an ID; it is sent within the current tick's batch. */
  ack(id: string): void {
    this.#ids.push(id);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => void this.flush());
    }
  }

  /** Sends every queued ID, retrying through outages until they are acknowledged. */
  async flush(): Promise<void> {
    this.#scheduled = false;
    while (this.#inFlight) await this.#inFlight;
    if (this.#ids.length === 0) return;
    const ids = this.#ids;
    this.#ids = [];
    this.#inFlight = this.#send(ids);
    try {
      await this.#inFlight;
    } finally {
      this.#inFlight = undefined;
    }
    if (this.#ids.length > 0) await this.flush();
  }

  async #send(ids: string[]): Promise<void> {
    for (;;) {
      try {
        await this.conn.command(['XACK', this.stream, this.group, ...ids]);
        return;
      } catch (error) {
        if (this.conn.closed) return;
        // Unacknowledged entries stay pending: worst case they are delivered again.
        this.onError(error);
        await this.conn.waitReady(Date.now() + this.conn.options.commandTimeoutMs, error).catch(() => undefined);
      }
    }
  }
}
