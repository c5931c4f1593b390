import type { RedisConnection } from '../redis/connection.js';
import type { ReadConnection } from '../redis/read-connection.js';

/**
 * Batches acknowledgements: every ID acked in the same tick goes out in one `XACK key group id…`.
 * XACK is idempotent, so a batch that failed with the connection is simply sent again.
 */
export class Acker {
  /** The next XACK, built as IDs come: `XACK key group` then the IDs. */
  #command: string[];
  #scheduled = false;
  #inFlight: Promise<void> | undefined;

  constructor(
    private readonly conn: RedisConnection,
    private readonly stream: string,
    private readonly group: string,
    private readonly onError: (error: unknown) => void,
    /**
     * The worker's fetch connection while no blocking read waits on it (else undefined). Acks go
     * there when they can: its encoder writes a thousand IDs as one buffer, where node-redis
     * builds a string per argument. A blocked connection serves nothing else (DESIGN §4), so the
     * shared connection takes them otherwise.
     */
    private readonly lean: () => ReadConnection | undefined = () => undefined,
  ) {
    this.#command = this.#empty();
  }

  /** IDs queued and not sent yet. */
  get queued(): number {
    return this.#command.length - 3;
  }

  /** Queues an ID; it is sent within the current tick's batch. */
  ack(id: string): void {
    this.#command.push(id);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => void this.flush());
    }
  }

  /**
   * Sends every queued ID, retrying through outages until they are acknowledged. When nothing is
   * in flight the XACK is written before this returns (a caller about to send another command on
   * the same connection gets the ack in first).
   */
  async flush(): Promise<void> {
    this.#scheduled = false;
    while (this.#inFlight) await this.#inFlight;
    if (this.queued === 0) return;
    const command = this.#command;
    this.#command = this.#empty();
    this.#inFlight = this.#send(command);
    try {
      await this.#inFlight;
    } finally {
      this.#inFlight = undefined;
    }
    if (this.queued > 0) await this.flush();
  }

  #empty(): string[] {
    return ['XACK', this.stream, this.group];
  }

  async #send(command: string[]): Promise<void> {
    for (;;) {
      const lean = this.lean();
      try {
        if (lean) await lean.send(command, Date.now() + this.conn.options.commandTimeoutMs);
        else await this.conn.command(command);
        return;
      } catch (error) {
        if (this.conn.closed) return;
        // close() destroyed the fetch connection under it: send it again on the shared one.
        if (lean?.closed) continue;
        // Unacknowledged entries stay pending: worst case they are delivered again.
        this.onError(error);
        await this.conn.waitReady(Date.now() + this.conn.options.commandTimeoutMs, error).catch(() => undefined);
      }
    }
  }
}
