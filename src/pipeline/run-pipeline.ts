import type { Worker } from '../consumer/worker.js';
import { InvalidOptionError } from '../errors.js';
import { logger as rootLogger, type Logger } from '../observe/logger.js';
import { createSink } from '../sinks/create-sink.js';
import type { Sink } from '../sinks/sink.js';
import type { Sluice } from '../sluice.js';
import type { Source } from '../sources/source.js';
import type { Stream } from '../stream/stream.js';
import type { PipelineConfig, PipelineEvent } from './config.js';
import { definePipeline, Pipeline } from './define-pipeline.js';
import { EventFlow } from './event-flow.js';
import { SinkBatcher } from './sink-batcher.js';

export interface RunPipelineOptions {
  /** The Redis connection: the pipeline's worker, its source's publishes and `stream` sinks without a `url` use it. Not closed by the pipeline. */
  sluice: Sluice;
  /** Where the pipeline logs (start, failing sinks, dead letters). @default Sluice's logger (pino, stderr) */
  logger?: Logger;
  /** The input of a `stdin` source. @default process.stdin */
  input?: NodeJS.ReadableStream;
}

/** What a pipeline has done since it started. */
export interface PipelineStats {
  /** Events done and acknowledged: stored by every sink they were sent to, or dropped. */
  processed: number;
  /** Events dropped by a filter, by a map returning null, or by a route with nowhere to send them. */
  filtered: number;
  /** Events moved to the dead-letter stream (a step failed on them, a sink refused them, retries ran out). */
  deadLettered: number;
  /** Events each sink stored, by sink name (`sqlite:orders`). Retried writes count again. */
  written: Record<string, number>;
  /** Events the source published into the input stream (0 for a `stream` source). */
  published: number;
}

/** A running pipeline. */
export interface RunningPipeline {
  readonly name: string;
  /** The input stream. */
  readonly stream: string;
  readonly group: string;
  /** The consumer-group worker: its events (`processed`, `dead-lettered`, `retrying`…) feed metrics and dashboards. */
  readonly worker: Worker;
  /** The running source: its `type`, `url` (http), `published`, `finished` (finite sources). */
  readonly source: Source;
  stats(): PipelineStats;
  /**
   * Resolves when the group has nothing undelivered and nothing pending — for a finite source
   * (a file, stdin, a generator with `count`), once it has published everything. Rejects if the
   * source failed.
   */
  idle(): Promise<void>;
  /**
   * Stops the source, closes the worker (its last batches are written at once; in-flight events
   * get `timeout` ms to finish, then stay pending for a later run), then closes the sinks.
   * Safe to call twice.
   */
  close(options?: { timeout?: number }): Promise<void>;
}

/**
 * Runs a pipeline: builds its sinks, starts its consumer-group worker on the input stream (the
 * group is created if needed), then its source. Resolves once all are running. Every event is
 * acknowledged only after each sink it went to stored it, so a crash at any point loses nothing:
 * the events in flight stay pending and are delivered again (reclaimed by another worker of the
 * group after `claimIdle`, or by this one after a restart with the same `consumer` name).
 *
 * @example
 * const running = await runPipeline(pipeline, { sluice });
 * running.worker.on('dead-lettered', (e) => console.warn(e.id, e.error));
 * await running.close();
 */
export async function runPipeline(pipeline: Pipeline | PipelineConfig, options: RunPipelineOptions): Promise<RunningPipeline> {
  const definition = pipeline instanceof Pipeline ? pipeline : redefine(pipeline);
  const sluice = options?.sluice;
  if (sluice === null || typeof sluice !== 'object' || typeof sluice.stream !== 'function') {
    throw new InvalidOptionError('sluice', sluice, 'a Sluice connection (from `connect()`)');
  }
  await definition.prepare();
  const { plan } = definition;
  const log = (options.logger ?? rootLogger).child({ pipeline: plan.name });

  const sinks: Sink[] = plan.sinks.map((slot) => (isSinkObject(slot.target) ? slot.target : createSink(slot.target, { at: slot.at, connection: sluice })));
  const written: Record<string, number> = {};
  const batchers = sinks.map((sink, i) => {
    const name = (plan.sinks[i] as { name: string }).name;
    written[name] = 0;
    return new SinkBatcher(sink, {
      size: plan.batch.size,
      lingerMs: plan.batch.lingerMs,
      logger: log,
      onWritten: (count) => (written[name] = (written[name] as number) + count),
    });
  });
  const flow = new EventFlow({ steps: plan.processors, router: plan.router, fallback: plan.fallback, batchers });
  const stream = sluice.stream<unknown, PipelineEvent>(plan.stream, { codec: plan.codec });
  const worker = stream.consume(plan.consumer, flow.handle);
  let deadLettered = 0;
  worker.on('dead-lettered', ({ id, reason, error }) => {
    deadLettered++;
    log.warn({ id, reason, error }, `event ${id} dead-lettered (${reason}): ${error}`);
  });
  worker.on('error', ({ error, context }) => log.warn({ err: error }, `worker: ${context}`));

  const source = definition.createSource(options.input);
  const closeSinks = () => Promise.all(sinks.map((sink) => sink.close().catch((error: unknown) => log.warn({ err: error, sink: sink.name }, 'closing the sink failed'))));
  try {
    // The group exists before the source publishes anything: nothing it publishes is missed.
    await worker.ready;
    await source.start({ sluice, stream: stream as unknown as Stream<unknown, unknown>, logger: log });
  } catch (error) {
    await worker.close({ timeout: 0 });
    await closeSinks();
    throw error;
  }
  log.debug({ stream: plan.stream, group: plan.group, source: source.type, sinks: plan.sinks.map((s) => s.name) }, `pipeline ${plan.name} running`);

  let closed: Promise<void> | undefined;
  const close = async (timeout: number): Promise<void> => {
    await source.stop().catch((error: unknown) => log.warn({ err: error }, 'stopping the source failed'));
    // Nothing new is fetched once the worker closes; the events it holds must not wait for a linger.
    for (const batcher of batchers) batcher.beginClose();
    await worker.close({ timeout });
    // Writes still running now belong to events the worker gave up on (left pending): stop them.
    for (const batcher of batchers) if (batcher.writing > 0) batcher.abort(new Error('the pipeline closed'));
    await Promise.all(batchers.map((batcher) => batcher.drain()));
    await closeSinks();
    log.debug({ ...flow.counts, deadLettered }, `pipeline ${plan.name} closed`);
  };

  return {
    name: plan.name,
    stream: plan.stream,
    group: plan.group,
    worker: worker as unknown as Worker,
    source,
    stats: () => ({ processed: flow.counts.processed, filtered: flow.counts.filtered, deadLettered, written: { ...written }, published: source.published }),
    async idle() {
      if (source.finite) await source.finished;
      await worker.idle();
    },
    close(closeOptions = {}) {
      closed ??= close(closeOptions.timeout ?? 10_000);
      return closed;
    },
  };
}

/** A config, or a pipeline built by another copy of Sluice (defined again, from its config, by this one). */
function redefine(pipeline: Pipeline | PipelineConfig): Pipeline {
  if (!Pipeline.is(pipeline)) return definePipeline(pipeline);
  const baseDir = (pipeline as { plan?: { baseDir?: unknown } }).plan?.baseDir;
  return definePipeline(pipeline.config, typeof baseDir === 'string' ? { baseDir } : {});
}

function isSinkObject(value: unknown): value is Sink {
  return value !== null && typeof value === 'object' && typeof (value as Sink).write === 'function' && typeof (value as Sink).close === 'function';
}
