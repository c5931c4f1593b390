import type { PipelineEvent } from './config.js';
import type { Processor, StepResult } from './processors/processor.js';
import type { Router } from './processors/route.js';
import type { BatchRejection, SinkBatcher } from './sink-batcher.js';

/** Counts kept by the flow itself (dead letters come from the worker's events). */
export interface FlowCounts {
  /** Events done: written to every sink they were sent to, or dropped. */
  processed: number;
  /** Events dropped by a filter, a map returning null, or a route with nowhere to send them. */
  filtered: number;
}

/**
 * The work a pipeline does per event, as the worker's handler: the steps in order, then the
 * route (or the pipeline's sinks), then the sinks' batches. Synchronous as long as it can be: an
 * event dropped by expression steps returns without a promise, so the worker acknowledges it on
 * its fast path. The handler resolves only once every sink the event went to has stored it (then
 * the worker acks it); a step's or sink's error rejects it (retry, or dead letter when
 * non-retryable).
 */
export class EventFlow {
  readonly counts: FlowCounts = { processed: 0, filtered: 0 };
  readonly #steps: readonly Processor[];
  readonly #router: Router | undefined;
  readonly #fallback: readonly number[];
  readonly #batchers: readonly SinkBatcher[];

  constructor(options: { steps: readonly Processor[]; router: Router | undefined; fallback: readonly number[]; batchers: readonly SinkBatcher[] }) {
    this.#steps = options.steps;
    this.#router = options.router;
    this.#fallback = options.fallback;
    this.#batchers = options.batchers;
  }

  /** The worker's handler. */
  readonly handle = (event: PipelineEvent): Promise<void> | void => {
    const steps = this.#steps;
    let current = event;
    for (let i = 0; i < steps.length; i++) {
      const result = (steps[i] as Processor).process(current);
      if (result === null) return this.#dropped();
      if (result instanceof Promise) return this.#continue(result, i + 1);
      current = result;
    }
    return this.#route(current);
  };

  /** The rest of the steps once one of them went asynchronous. */
  async #continue(pending: Promise<PipelineEvent | null>, next: number): Promise<void> {
    let current = await pending;
    if (current === null) return this.#dropped();
    const steps = this.#steps;
    for (let i = next; i < steps.length; i++) {
      let result: StepResult = (steps[i] as Processor).process(current);
      if (result instanceof Promise) result = await result;
      if (result === null) return this.#dropped();
      current = result;
    }
    return this.#route(current);
  }

  #route(event: PipelineEvent): Promise<void> | void {
    if (this.#router === undefined) return this.#deliver(event, this.#fallback);
    const targets = this.#router.select(event);
    if (targets instanceof Promise) return targets.then((chosen) => this.#deliver(event, chosen));
    return this.#deliver(event, targets);
  }

  #deliver(event: PipelineEvent, targets: readonly number[]): Promise<void> | void {
    if (targets.length === 0) return this.#dropped();
    if (targets.length === 1) return this.#writeOne(event, this.#batchers[targets[0] as number] as SinkBatcher);
    return this.#writeAll(event, targets);
  }

  async #writeOne(event: PipelineEvent, batcher: SinkBatcher): Promise<void> {
    const rejection = await batcher.add(event);
    if (rejection !== undefined) rejection.check(event.id);
    this.counts.processed++;
  }

  /** To several sinks: acknowledged only once every one of them stored the event. */
  async #writeAll(event: PipelineEvent, targets: readonly number[]): Promise<void> {
    const outcomes: Array<Promise<BatchRejection | undefined>> = [];
    for (const slot of targets) outcomes.push((this.#batchers[slot] as SinkBatcher).add(event));
    for (const rejection of await Promise.all(outcomes)) rejection?.check(event.id);
    this.counts.processed++;
  }

  #dropped(): void {
    this.counts.filtered++;
    this.counts.processed++;
  }
}
