import { resolveConsumerOptions, type ConsumerOptions } from '../consumer/options.js';
import { InvalidInputError, InvalidOptionError } from '../errors.js';
import { createSink } from '../sinks/create-sink.js';
import { OptionReader } from '../sinks/options.js';
import type { Sink } from '../sinks/sink.js';
import { createSource } from '../sources/create-source.js';
import type { Source } from '../sources/source.js';
import { StreamSource } from '../sources/stream.js';
import type { CodecName } from '../stream/codec.js';
import { startAfter, type ReadFrom } from '../stream/reader.js';
import type { MapFunction, PipelineConfig } from './config.js';
import { keyAt, optionError, prefixOptionError } from './key-path.js';
import { filterProcessor } from './processors/filter.js';
import { expressionMapProcessor, functionMapProcessor, isMapModule } from './processors/map.js';
import { ModuleMapProcessor } from './processors/map-module.js';
import type { Processor } from './processors/processor.js';
import { compileRoute, type Router } from './processors/route.js';

/** Batch defaults: see `BatchConfig`. */
export const DEFAULT_BATCH_SIZE = 100;
export const DEFAULT_LINGER_MS = 50;
/** A pipeline's worker holds at least this many events, batches of one or not. */
const MIN_DEFAULT_CONCURRENCY = 16;

const PIPELINE_KEYS = ['name', 'source', 'steps', 'sinks', 'batch', 'consumer'] as const;
const CONSUMER_KEYS = [
  'group',
  'consumer',
  'concurrency',
  'batchSize',
  'block',
  'startFrom',
  'maxDeliveries',
  'backoff',
  'claimIdle',
  'handlerTimeout',
  'ordering',
  'key',
  'deadLetter',
  'removeIdleConsumers',
  'rateLimit',
] as const;

/** One sink of a pipeline: where it is configured, what it is, and its name in `stats().written`. */
export interface SinkSlot {
  readonly at: string;
  /** The sink config (built anew by each run) or a sink object (used as it is). */
  readonly target: unknown;
  /** The sink's name, made unique within the pipeline (`sqlite:orders`, `sqlite:orders#2`). */
  readonly name: string;
}

/** Everything a run needs, checked and compiled once by `definePipeline`. */
export interface PipelinePlan {
  readonly name: string;
  readonly stream: string;
  readonly group: string;
  readonly codec: CodecName;
  readonly source: { readonly config: unknown; readonly at: string };
  readonly processors: readonly Processor[];
  readonly router: Router | undefined;
  /** The pipeline's `sinks` (slots): where events go without a route, or that no route case took. */
  readonly fallback: readonly number[];
  readonly sinks: readonly SinkSlot[];
  readonly batch: { readonly size: number; readonly lingerMs: number };
  /** The worker's options, group and start position included. */
  readonly consumer: ConsumerOptions;
  readonly baseDir: string;
}

export interface DefinePipelineOptions {
  /**
   * Where the config came from, prefixed to key paths in errors (`pipelines[1]`).
   * @default ''
   */
  at?: string;
  /**
   * The folder a map module's relative path is resolved against (the YAML file's folder).
   * @default the current folder
   */
  baseDir?: string;
}

const PIPELINE = Symbol.for('sluice.pipeline');

/**
 * A checked, compiled pipeline: run it with `runPipeline(pipeline, { sluice })`, as many times as
 * wanted (each run builds its own sinks from the configs). Built by `definePipeline`.
 */
export class Pipeline {
  readonly name: string;
  /** The input stream. */
  readonly stream: string;
  /** The consumer group the pipeline reads with. */
  readonly group: string;
  /** The config as given. */
  readonly config: PipelineConfig;
  /** @internal the compiled plan */
  readonly plan: PipelinePlan;
  readonly [PIPELINE] = true;
  #prepared: Promise<void> | undefined;

  /** @internal use `definePipeline` */
  constructor(config: PipelineConfig, plan: PipelinePlan) {
    this.config = config;
    this.plan = plan;
    this.name = plan.name;
    this.stream = plan.stream;
    this.group = plan.group;
  }

  /** True for a pipeline, also one built by another copy of this library. */
  static is(value: unknown): value is Pipeline {
    return value !== null && typeof value === 'object' && (value as Record<symbol, unknown>)[PIPELINE] === true;
  }

  /**
   * Finishes what `definePipeline` cannot do synchronously, still before any connection: imports
   * map modules and checks that a file source's file is readable. Errors name the key. Runs once;
   * `runPipeline` calls it.
   */
  prepare(): Promise<void> {
    this.#prepared ??= (async () => {
      for (const processor of this.plan.processors) if (processor instanceof ModuleMapProcessor) await processor.load();
      await this.createSource().check();
    })();
    return this.#prepared;
  }

  /** @internal a new, unstarted source from the config */
  createSource(input?: NodeJS.ReadableStream): Source {
    return createSource(this.plan.source.config, { at: this.plan.source.at, input });
  }
}

/**
 * Checks and compiles a pipeline now: every key, every expression (parsed and type-checked),
 * every sink config (built, not connected). A mistake throws `InvalidOptionError` naming the key
 * path, e.g. `steps[1].route[0].when`.
 *
 * @example
 * const pipeline = definePipeline({
 *   name: 'orders',
 *   source: { type: 'stream', stream: 'events:orders' },
 *   steps: [
 *     { filter: 'status != "cancelled"' },
 *     { route: [{ when: 'double(amount) >= 100.0', to: [{ type: 'sqlite', table: 'big_orders' }] }] },
 *   ],
 *   sinks: [{ type: 'sqlite', table: 'orders' }],
 * });
 */
export function definePipeline(config: PipelineConfig, options: DefinePipelineOptions = {}): Pipeline {
  const at = options.at ?? '';
  const baseDir = options.baseDir ?? process.cwd();
  const key = (...segments: Array<string | number>) => keyAt(at, ...segments);
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new InvalidOptionError(at || 'pipeline', config, 'a pipeline like { name: "orders", source: { type: "stream", stream: "events:orders" }, sinks: [...] }');
  }
  const reader = new OptionReader(config, 'a pipeline', at);
  reader.only(PIPELINE_KEYS);
  const name = groupName(reader.string('name', { required: true }), key('name'));

  if (config.source === undefined) throw new InvalidOptionError(key('source'), undefined, 'a source like { type: "stream", stream: "events:orders" }');
  const source = createSource(config.source, { at: key('source') });

  // Sinks: the pipeline's own first (the fallback of a route), then the routes'.
  const slots: SinkSlot[] = [];
  const names = new Map<string, number>();
  const addSink = (target: unknown, sinkAt: string): number => {
    const sink = isSink(target) ? target : createSink(target, { at: sinkAt });
    const seen = names.get(sink.name) ?? 0;
    names.set(sink.name, seen + 1);
    slots.push({ at: sinkAt, target, name: seen === 0 ? sink.name : `${sink.name}#${seen + 1}` });
    return slots.length - 1;
  };
  let fallback: number[] = [];
  if (config.sinks !== undefined) {
    if (!Array.isArray(config.sinks)) throw new InvalidOptionError(key('sinks'), config.sinks, 'a list of sinks like [{ type: "sqlite", table: "orders" }]');
    fallback = config.sinks.map((target, i) => addSink(target, key('sinks', i)));
  }

  const processors: Processor[] = [];
  let router: Router | undefined;
  if (config.steps !== undefined) {
    if (!Array.isArray(config.steps)) throw new InvalidOptionError(key('steps'), config.steps, 'a list of steps like [{ filter: \'status == "paid"\' }]');
    config.steps.forEach((step: unknown, index) => {
      const stepAt = key('steps', index);
      if (router !== undefined) throw new InvalidOptionError(stepAt, step, 'absent: `route` must be the last step (it sends events to their sinks)');
      const kind = stepKind(step, stepAt);
      const value = (step as Record<string, unknown>)[kind];
      if (kind === 'filter') processors.push(filterProcessor(value as string, stepAt));
      else if (kind === 'map') processors.push(mapProcessor(value, stepAt, baseDir));
      else router = compileRoute(value, stepAt, addSink, fallback);
    });
  }
  if (slots.length === 0) throw new InvalidOptionError(key('sinks'), config.sinks, 'at least one sink (or a `route` step with sinks): a pipeline must send its events somewhere');

  const batch = batchOptions(config.batch, key('batch'));
  const consumer = consumerOptions(config.consumer, key('consumer'), { stream: source.stream, name, batchSize: batch.size, source });
  const plan: PipelinePlan = {
    name,
    stream: source.stream,
    group: consumer.group,
    codec: source.codec,
    source: { config: config.source, at: key('source') },
    processors,
    router,
    fallback,
    sinks: slots,
    batch,
    consumer,
    baseDir,
  };
  return new Pipeline(config, plan);
}

/** `filter`, `map` or `route`: the one key of a step. */
function stepKind(step: unknown, at: string): 'filter' | 'map' | 'route' {
  const expected = 'a step like { filter: \'status == "paid"\' }, { map: { total: "double(amount) * 1.2" } } or { route: [...] }';
  if (step === null || typeof step !== 'object' || Array.isArray(step)) throw new InvalidOptionError(at, step, expected);
  const keys = Object.keys(step).filter((k) => (step as Record<string, unknown>)[k] !== undefined);
  const kinds = keys.filter((k): k is 'filter' | 'map' | 'route' => k === 'filter' || k === 'map' || k === 'route');
  const other = keys.find((k) => k !== 'filter' && k !== 'map' && k !== 'route');
  if (other !== undefined) throw new InvalidOptionError(keyAt(at, other), (step as Record<string, unknown>)[other], `absent: a step has one key, \`filter\`, \`map\` or \`route\``);
  if (kinds.length !== 1) throw new InvalidOptionError(at, step, expected);
  return kinds[0] as 'filter' | 'map' | 'route';
}

function mapProcessor(value: unknown, at: string, baseDir: string): Processor {
  if (typeof value === 'function') return functionMapProcessor(value as MapFunction, at);
  if (isMapModule(value)) return new ModuleMapProcessor(value, at, baseDir);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidOptionError(`${at}.map`, value, 'fields to set like { total: "double(amount) * 1.2" }, a function (event) => event, or { module: "./map.mjs", export: "name" }');
  }
  return expressionMapProcessor(value as Record<string, unknown>, at);
}

function batchOptions(value: unknown, at: string): { size: number; lingerMs: number } {
  if (value === undefined) return { size: DEFAULT_BATCH_SIZE, lingerMs: DEFAULT_LINGER_MS };
  const reader = new OptionReader(value, 'the batch options', at);
  reader.only(['size', 'linger']);
  return { size: reader.integer('size', DEFAULT_BATCH_SIZE, { min: 1, max: 100_000 }), lingerMs: reader.duration('linger', DEFAULT_LINGER_MS) };
}

/**
 * The worker's options: the config's, with the group (`source.group`, else `consumer.group`,
 * else the pipeline's name), the start position (`source.startFrom`, else `consumer.startFrom`,
 * else `'0'`: a new pipeline takes what the stream already holds, as sink connectors do) and a
 * concurrency of at least the batch size.
 */
function consumerOptions(
  value: unknown,
  at: string,
  context: { stream: string; name: string; batchSize: number; source: Source },
): ConsumerOptions & { group: string } {
  const given = value === undefined ? {} : value;
  const reader = new OptionReader(given, 'the consumer options', at);
  reader.only(CONSUMER_KEYS);
  const options = { ...(given as Partial<ConsumerOptions>) };
  const streamSource = context.source instanceof StreamSource ? context.source : undefined;
  options.group = streamSource?.group ?? (options.group === undefined ? context.name : groupName(options.group, reader.path('group')));
  if (options.startFrom !== undefined) {
    try {
      startAfter(options.startFrom);
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
      const path = reader.path('startFrom');
      throw optionError(path, `Expected \`${path}\` to be \`0\` (the whole stream), \`$\` (new events only), a stream ID like 1692632086370-0 or an ISO time, got ${JSON.stringify(options.startFrom)}`, options.startFrom);
    }
  }
  options.startFrom = streamSource?.startFrom ?? options.startFrom ?? ('0' as ReadFrom);
  // Checked here, with the key, rather than as a bare `claimIdle` by the worker.
  for (const name of ['block', 'claimIdle', 'handlerTimeout', 'removeIdleConsumers'] as const) reader.duration(name, 0);
  const backoff = reader.raw('backoff');
  if (backoff !== null && typeof backoff === 'object') {
    const nested = new OptionReader(backoff, 'the backoff options', reader.path('backoff'));
    nested.only(['initial', 'max', 'factor', 'jitter']);
    nested.duration('initial', 0);
    nested.duration('max', 0);
  } else if (backoff !== undefined) {
    reader.duration('backoff', 0);
  }
  const concurrency = reader.raw('concurrency');
  if (concurrency === undefined) {
    options.concurrency = Math.max(2 * context.batchSize, MIN_DEFAULT_CONCURRENCY);
  } else if (typeof concurrency === 'number' && concurrency < context.batchSize) {
    throw new InvalidOptionError(
      reader.path('concurrency'),
      concurrency,
      `at least \`batch.size\` (${context.batchSize}): the worker holds at most \`concurrency\` events, so a batch of ${context.batchSize} could never fill`,
    );
  }
  try {
    // A probe consumer name: the default one counts workers, and this is no worker.
    resolveConsumerOptions(context.stream, { ...options, consumer: options.consumer ?? 'check' } as ConsumerOptions);
  } catch (error) {
    if (error instanceof InvalidOptionError) throw prefixOptionError(error, at);
    if (error instanceof InvalidInputError) throw optionError(at, `\`${at}\`: ${error.message}`, value);
    throw error;
  }
  return options as ConsumerOptions & { group: string };
}

function groupName(value: string, at: string): string {
  // eslint-disable-next-line no-control-regex
  if (typeof value !== 'string' || value.length === 0 || /[\s\u0000-\u001f\u007f]/.test(value)) {
    throw new InvalidOptionError(at, value, 'a name without spaces, like orders-to-db (it is also the consumer group)');
  }
  return value;
}

function isSink(value: unknown): value is Sink {
  return (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as Sink).write === 'function' &&
    typeof (value as Sink).close === 'function' &&
    typeof (value as Sink).name === 'string'
  );
}
