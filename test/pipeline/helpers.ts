import { afterEach } from 'node:test';
import { pino, type Logger } from 'pino';
import type { RunningPipeline, Sink, SinkContext, SinkEvent } from '../../src/index.js';

/** A logger that keeps its lines, to assert on what a pipeline reported. */
export function recordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: pino({ level: 'debug' }, { write: (line: string) => lines.push(line) }), lines };
}

/**
 * A sink that keeps what it stored, in memory, keyed on the event ID (idempotent, as the database
 * sinks are). `fail(n, error)` makes the next n writes throw; `hold()` makes writes wait.
 */
export class MemorySink implements Sink {
  readonly idempotent = true;
  readonly stored = new Map<string, SinkEvent>();
  readonly batches: string[][] = [];
  #failures: Array<() => unknown> = [];
  #held: Promise<void> | undefined;
  #release: (() => void) | undefined;
  closed = false;

  constructor(readonly name = 'memory') {}

  /** The next `count` writes fail with what `error(events)` returns. */
  fail(count: number, error: (events: readonly SinkEvent[]) => unknown): void {
    for (let i = 0; i < count; i++) this.#failures.push(() => error);
  }

  hold(): void {
    this.#held = new Promise((resolve) => (this.#release = resolve));
  }

  release(): void {
    this.#held = undefined;
    this.#release?.();
  }

  async write(events: readonly SinkEvent[], ctx: SinkContext): Promise<void> {
    if (this.closed) throw new Error(`${this.name} is closed`);
    this.batches.push(events.map((e) => e.id));
    if (this.#held) await Promise.race([this.#held, new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)))]);
    const failure = this.#failures.shift();
    if (failure) throw (failure() as (events: readonly SinkEvent[]) => unknown)(events);
    for (const event of events) this.stored.set(event.id, structuredClone(event));
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/**
 * Closes the pipelines a test started once it ends (an `afterEach` of the file), so the next test
 * starts with none running. Hand each started pipeline to the returned function, which gives it back.
 */
export function closePipelinesAfterEach(): (pipeline: RunningPipeline) => RunningPipeline {
  const running: RunningPipeline[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.close({ timeout: 1000 })));
  });
  return (pipeline) => {
    running.push(pipeline);
    return pipeline;
  };
}
