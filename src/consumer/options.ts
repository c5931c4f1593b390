import { hostname } from 'node:os';
import { InvalidOptionError } from '../errors.js';
import type { EventEnvelope } from '../stream/event.js';
import { startAfter, type ReadFrom } from '../stream/reader.js';
import { helperKey } from '../stream/stream-name.js';
import { parseDuration } from '../stream/time.js';
import { checkBackoff, type BackoffOptions, type Backoff } from './backoff.js';
import { resolveRateLimit, type RateLimit, type RateLimitOptions } from './rate-limit.js';

/** Options of `stream.consume()`. Checked when the worker is built. */
export interface ConsumerOptions<E = EventEnvelope> {
  /** The consumer group; created (MKSTREAM) if it does not exist. */
  group: string;
  /**
   * This worker's consumer name in the group.
   * @default `<hostname>:<pid>:<n>` — stable for the process, unique per worker. Pass a name
   * that survives restarts (a pod name…) to pick up this consumer's own pending entries at start.
   */
  consumer?: string;
  /**
   * Most entries held at once (running, waiting for a retry, or waiting behind their key). Bounds
   * memory whatever the backlog.
   * @default 16
   */
  concurrency?: number;
  /**
   * Most entries fetched per XREADGROUP. While the worker is behind it keeps two reads in
   * flight, each at most half of `concurrency`, so Node and Redis work at the same time.
   * @default 100
   */
  batchSize?: number;
  /**
   * Milliseconds each XREADGROUP waits for new entries (finite: close() never waits longer).
   * @default 2000
   */
  block?: number;
  /**
   * Where a new group starts: `'$'` (new events only), `'0'` (the whole stream), an ID or a Date.
   * Ignored when the group exists.
   * @default '$'
   */
  startFrom?: ReadFrom;
  /**
   * Deliveries before an entry is dead-lettered (the first delivery counts). The count lives in
   * Redis's pending entries list, so the budget survives restarts.
   * @default 5
   */
  maxDeliveries?: number;
  /**
   * Delay before a failed entry is retried; a number is the initial delay in ms.
   * @default { initial: 100, max: 10_000, factor: 2, jitter: 0.2 }
   */
  backoff?: BackoffOptions | number;
  /**
   * Entries pending on another consumer for this long are reclaimed (its process is presumed
   * dead). Entries this worker holds are kept fresh meanwhile, so a slow handler is not reclaimed.
   * @default '30s'
   */
  claimIdle?: number | string;
  /**
   * Time a handler may take; then its `ctx.signal` aborts and the attempt fails with a timeout.
   * @default none
   */
  handlerTimeout?: number | string;
  /**
   * `'none'`: entries run in parallel. `'key'`: entries with the same key (the `$key` field, or
   * `key(event)`) run one at a time in ID order; different keys in parallel.
   * @default 'none'
   */
  ordering?: 'none' | 'key';
  /** The ordering key of an event (with `ordering: 'key'`). @default the event's `$key` meta */
  key?: (event: E) => string | undefined;
  /** The dead-letter stream. @default `{<stream>}:dlq` */
  deadLetter?: string;
  /**
   * Consumers of the group that hold nothing pending and were idle this long are removed
   * (never one with pending entries). `0` turns it off.
   * @default '1h'
   */
  removeIdleConsumers?: number | string;
  /**
   * Most handler starts per period for the whole group: every worker with this stream and group,
   * in every process, shares one token bucket in Redis (`{<stream>}:ratelimit:<group>`, expiring
   * when unused). After a quiet spell up to `max` may start at once, then `max` per `per`. Every
   * handler start counts: first deliveries, retries, reclaimed entries. Protects a downstream
   * that takes only so many calls (a partner's webhook, a metered API).
   * @default none (no limit, and no cost)
   * @example { max: 100, per: '1s' }
   */
  rateLimit?: RateLimitOptions;
}

/** What the worker runs with: every option resolved and checked. */
export interface ResolvedConsumerOptions<E> {
  group: string;
  consumer: string;
  concurrency: number;
  batchSize: number;
  block: number;
  startFrom: string;
  maxDeliveries: number;
  backoff: Backoff;
  claimIdleMs: number;
  handlerTimeoutMs: number | undefined;
  ordering: 'none' | 'key';
  key: ((event: E) => string | undefined) | undefined;
  deadLetter: string;
  removeIdleConsumersMs: number;
  rateLimit: RateLimit | undefined;
}

let workerCount = 0;

/** A consumer name that is stable for this process and unique per worker in it. */
export function defaultConsumerName(): string {
  return `${hostname()}:${process.pid}:${++workerCount}`;
}

export function resolveConsumerOptions<E>(stream: string, options: ConsumerOptions<E>): ResolvedConsumerOptions<E> {
  if (options === null || typeof options !== 'object') throw new InvalidOptionError('options', options, 'an object like { group: "billing" }');
  const group = nonEmpty('group', options.group);
  const consumer = options.consumer === undefined ? defaultConsumerName() : nonEmpty('consumer', options.consumer);
  const concurrency = int('concurrency', options.concurrency ?? 16, 1);
  const batchSize = int('batchSize', options.batchSize ?? 100, 1);
  const block = int('block', options.block ?? 2000, 1);
  const startFrom = options.startFrom ?? '$';
  // '$' stays symbolic for XGROUP CREATE; anything else becomes the ID the group starts after.
  const startId = startFrom === '$' ? '$' : (startAfter(startFrom) as string);
  const maxDeliveries = int('maxDeliveries', options.maxDeliveries ?? 5, 1);
  const backoff = checkBackoff(options.backoff);
  const claimIdleMs = parseDuration(options.claimIdle ?? 30_000, 'claimIdle');
  if (claimIdleMs < 10) throw new InvalidOptionError('claimIdle', options.claimIdle, 'at least 10 ms');
  const handlerTimeoutMs = options.handlerTimeout === undefined ? undefined : parseDuration(options.handlerTimeout, 'handlerTimeout');
  const ordering = options.ordering ?? 'none';
  if (ordering !== 'none' && ordering !== 'key') throw new InvalidOptionError('ordering', ordering, '`none` or `key`');
  if (options.key !== undefined && typeof options.key !== 'function') throw new InvalidOptionError('key', options.key, 'a function (event) => string');
  const deadLetter = options.deadLetter === undefined ? helperKey(stream, 'dlq') : nonEmpty('deadLetter', options.deadLetter);
  const removeIdleConsumersMs = parseDuration(options.removeIdleConsumers ?? 3_600_000, 'removeIdleConsumers');
  const rateLimit = resolveRateLimit(options.rateLimit);
  return {
    group,
    consumer,
    concurrency,
    batchSize,
    block,
    startFrom: startId,
    maxDeliveries,
    backoff,
    claimIdleMs,
    handlerTimeoutMs,
    ordering,
    key: options.key,
    deadLetter,
    removeIdleConsumersMs,
    rateLimit,
  };
}

function nonEmpty(option: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || /\s/.test(value)) {
    throw new InvalidOptionError(option, value, 'a non-empty name without spaces');
  }
  return value;
}

function int(option: string, value: unknown, min: number): number {
  if (!Number.isSafeInteger(value) || (value as number) < min) throw new InvalidOptionError(option, value, `a whole number ≥ ${min}`);
  return value as number;
}
