import { orderEvent } from '../sources/generator.js';
import type { FieldsEvent, FieldsInput } from '../stream/event.js';
import type { Stream } from '../stream/stream.js';

export interface OrderProducersOptions {
  stream: Stream<FieldsInput, FieldsEvent>;
  /** Producers publishing side by side, each its share of the events. */
  producers: number;
  /** Events to publish in all. */
  events: number;
  /** Events per second, all producers together; `0` publishes as fast as Redis takes them. */
  rate: number;
  /**
   * Every n-th order gets an amount that is not a number (`"n/a"`): the database writer refuses
   * it, so it shows up in the dead-letter stream. `0` never.
   */
  invalidEvery: number;
  /** Stops the producers early (Ctrl-C). */
  signal?: AbortSignal;
}

/** How often a rate-paced producer publishes what is due. */
const TICK_MS = 10;
/** Events per publish call when unpaced: large enough to fill the pipelined batches. */
const UNPACED_BURST = 500;

/**
 * Several producers appending order events to one stream — the guide's "many producers, one
 * ordered log". Each producer takes every `producers`-th sequence number, so the orders are
 * numbered 1…N across all of them, and publishes on a monotonic schedule: what is due is sent in
 * one `publishMany` per tick, so a slow tick is caught up rather than lost.
 */
export class OrderProducers {
  #produced = 0;
  readonly #options: OrderProducersOptions;

  constructor(options: OrderProducersOptions) {
    this.#options = options;
  }

  /** Events published (stored in Redis) so far. */
  get produced(): number {
    return this.#produced;
  }

  /** Runs every producer to the end (or the signal); resolves to the events published. */
  async run(): Promise<number> {
    const { producers, events } = this.#options;
    const shares = Array.from({ length: producers }, (_, i) => Math.floor(events / producers) + (i < events % producers ? 1 : 0));
    await Promise.all(shares.map((share, index) => this.#produce(index, share)));
    return this.#produced;
  }

  async #produce(index: number, share: number): Promise<void> {
    const { producers, rate, signal } = this.#options;
    const perProducerRate = rate / producers;
    const started = performance.now();
    let sent = 0;
    while (sent < share && !signal?.aborted) {
      const due = rate > 0 ? Math.min(share, Math.floor(((performance.now() - started) * perProducerRate) / 1000)) - sent : Math.min(UNPACED_BURST, share - sent);
      if (due <= 0) {
        await new Promise((resolve) => setTimeout(resolve, TICK_MS));
        continue;
      }
      const batch: FieldsInput[] = [];
      for (let i = 0; i < due; i++) batch.push(this.#order(index + 1 + (sent + i) * producers));
      await this.#options.stream.publishMany(batch);
      sent += due;
      this.#produced += due;
    }
  }

  #order(sequence: number): FieldsInput {
    const order = orderEvent(sequence);
    const { invalidEvery } = this.#options;
    return invalidEvery > 0 && sequence % invalidEvery === 0 ? { ...order, amount: 'n/a' } : order;
  }
}
