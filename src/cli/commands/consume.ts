import { Option, type Command } from 'commander';
import type { CodecName, ConsumerOptions, EventEnvelope, Handler, Worker } from '../../index.js';
import { parseDuration } from '../../stream/time.js';
import { parseListenAddress } from '../../observe/metrics-endpoint.js';
import { globalOptions, withSluice } from '../context.js';
import { loadHandler } from '../handler-module.js';
import { codecOption, duration, groupName, rateLimit, readFrom, since, streamName, wholeNumber } from '../options.js';
import { formatCount, writeJson, writeLine } from '../output.js';
import { serveMetricsFlag, type MetricsAddress } from '../metrics-flag.js';
import { ProgressBar } from '../progress.js';
import { watchSignals, type SignalWatch } from '../signals.js';

interface ConsumeFlags {
  group: string;
  handler: string;
  consumer?: string;
  concurrency?: number;
  batchSize?: number;
  maxDeliveries?: number;
  backoff?: string;
  claimIdle?: string;
  handlerTimeout?: string;
  rateLimit?: { max: number; per: string };
  from: string;
  /** Epoch ms: `--since` resolved when the command started. */
  since?: number;
  ordering: 'none' | 'key';
  untilIdle?: boolean;
  shutdownTimeout: string;
  codec: CodecName;
  metricsPort?: MetricsAddress;
}

/** What `sluice consume` prints at the end (`--json`), and the counts behind its summary line. */
export interface ConsumeSummary {
  stream: string;
  group: string;
  consumer: string;
  /** Events whose handler succeeded (and were acknowledged). */
  processed: number;
  /** Handler attempts that threw or timed out, the last one of a dead-lettered event included. */
  failedAttempts: number;
  /** Failed attempts followed by a retry. */
  retried: number;
  /** Events moved to the dead-letter stream. */
  deadLettered: number;
  /** Entries taken over from stopped consumers (or this consumer's own, after a restart). */
  reclaimed: number;
  seconds: number;
  /** `idle` (with --until-idle) or the signal that stopped it. */
  stoppedBy: 'idle' | 'SIGINT' | 'SIGTERM';
}

/**
 * Once the worker has closed and the summary is printed, the process should end. A handler module
 * may still hold a database pool or a timer open: after this grace the process exits anyway.
 */
const EXIT_GRACE_MS = 1000;

export function registerConsume(program: Command): void {
  program
    .command('consume')
    .description('run a handler module for every event of a consumer group: acks, retries with backoff, dead letters, reclaim')
    .argument('<stream>', 'stream name, e.g. events:orders', streamName)
    .requiredOption('--group <name>', 'the consumer group; created if it does not exist (see --from)', groupName('--group'))
    .requiredOption('--handler <path>', 'a JavaScript module whose default export is `async (event, ctx) => {…}`, relative to the current folder')
    .option('--consumer <name>', 'this consumer\'s name in the group; give a stable one to pick up its own pending entries after a restart (default: <hostname>:<pid>:1)', groupName('--consumer'))
    .option('--concurrency <n>', 'most events handled at once (default: 16)', wholeNumber('--concurrency', 1))
    .option('--batch-size <n>', 'most entries fetched per XREADGROUP (default: 100)', wholeNumber('--batch-size', 1))
    .option('--max-deliveries <n>', 'deliveries before an event is dead-lettered, the first included (default: 5)', wholeNumber('--max-deliveries', 1))
    .option('--backoff <duration>', 'delay before the first retry, doubling up to 10s, e.g. 100ms (default: 100ms)', duration('--backoff'))
    .option('--claim-idle <duration>', 'reclaim entries pending this long on another consumer, presumed dead (default: 30s)', duration('--claim-idle', 10))
    .option('--handler-timeout <duration>', 'time one handler call may take; then it fails and is retried (default: none)', duration('--handler-timeout', 1))
    .option(
      '--rate-limit <max/per>',
      'at most max handler starts per period for the whole group, every consumer of it included, e.g. 100/1s (a token bucket in Redis)',
      rateLimit('--rate-limit'),
    )
    .option('--from <position>', 'where a new group starts: `$` (new events only), `0` (the whole stream), a stream ID (the events after it) or an ISO time', readFrom, '$')
    .addOption(new Option('--since <duration>', 'a new group starts that long ago, e.g. 1h: the same as --from with the time then').argParser(since('--since')).conflicts('from'))
    .addOption(new Option('--ordering <mode>', '`none` (events in parallel) or `key` (events with the same $key one at a time, in order)').choices(['none', 'key']).default('none'))
    .option('--until-idle', 'exit once the group has nothing undelivered and nothing pending (other consumers\' pending entries are reclaimed first)')
    .option('--shutdown-timeout <duration>', 'on Ctrl-C or SIGTERM, time in-flight handlers get to finish; then their events stay pending', duration('--shutdown-timeout'), '10s')
    .addOption(codecOption())
    .option('--metrics-port <[host:]port>', 'serve Prometheus metrics at http://host:port/metrics (host defaults to 127.0.0.1; docs/metrics.md)', (value: string) =>
      parseListenAddress(value, '--metrics-port'),
    )
    .addHelpText(
      'after',
      `
The handler gets each event as \`sluice tail\` prints it ({ stream, id, time, fields }, or data with
--codec json) and ctx ({ deliveryCount, group, consumer, signal, deadLetter(reason) }). Returning
acknowledges the event; throwing retries it after a backoff, and dead-letters it after
--max-deliveries; ctx.deadLetter(reason) dead-letters it at once.

Examples:
  $ sluice consume events:orders --group billing --handler ./bill.mjs
  $ sluice consume events:orders --group backfill --from 0 --handler ./backfill.mjs --until-idle --json
  $ cat bill.mjs
  export default async (event, ctx) => {
    await fetch('https://billing.internal/orders', { method: 'POST', body: JSON.stringify(event.fields), signal: ctx.signal });
  };`,
    )
    .action(async (stream: string, flags: ConsumeFlags, command: Command) => {
      const globals = globalOptions(command);
      // Loaded before connecting: a bad module is a usage error that never waits for Redis.
      const handler = await loadHandler(flags.handler);
      const stop = watchSignals();
      try {
        await withSluice(globals, async (sluice) => {
          const source = sluice.stream<unknown, EventEnvelope>(stream, { codec: flags.codec });
          // Listening first: a port in use fails before any event is taken.
          const served = await serveMetricsFlag(sluice, [stream], flags.metricsPort);
          const worker = source.consume(consumerOptions(flags), handler as Handler<EventEnvelope>);
          served?.metrics.workers.instrument(worker);
          const summary = await run(worker, flags, stop).finally(() => served?.endpoint.close());
          if (globals.json) await writeJson(summary);
          else await writeLine(renderSummary(summary));
        });
      } finally {
        stop.dispose();
        setTimeout(() => process.exit(), EXIT_GRACE_MS).unref();
      }
    });
}

function consumerOptions(flags: ConsumeFlags): ConsumerOptions<EventEnvelope> {
  const options: ConsumerOptions<EventEnvelope> = { group: flags.group, startFrom: flags.since !== undefined ? new Date(flags.since) : flags.from, ordering: flags.ordering };
  if (flags.consumer !== undefined) options.consumer = flags.consumer;
  if (flags.concurrency !== undefined) options.concurrency = flags.concurrency;
  if (flags.batchSize !== undefined) options.batchSize = flags.batchSize;
  if (flags.maxDeliveries !== undefined) options.maxDeliveries = flags.maxDeliveries;
  if (flags.backoff !== undefined) options.backoff = { initial: flags.backoff };
  if (flags.claimIdle !== undefined) options.claimIdle = flags.claimIdle;
  if (flags.handlerTimeout !== undefined) options.handlerTimeout = flags.handlerTimeout;
  if (flags.rateLimit !== undefined) options.rateLimit = flags.rateLimit;
  return options;
}

/** Runs the worker until the group is idle (--until-idle) or a signal, then closes it gracefully. */
async function run(worker: Worker<EventEnvelope>, flags: ConsumeFlags, stop: SignalWatch): Promise<ConsumeSummary> {
  const counts = { processed: 0, failedAttempts: 0, retried: 0, deadLettered: 0, reclaimed: 0 };
  const bar = new ProgressBar(
    { done: () => counts.processed, detail: () => progressDetail(counts, worker.inFlight) },
    { label: `${worker.stream} (${worker.group})` },
  );
  worker.on('processed', () => counts.processed++);
  worker.on('failed', () => counts.failedAttempts++);
  worker.on('retrying', () => counts.retried++);
  worker.on('dead-lettered', () => counts.deadLettered++);
  worker.on('reclaimed', ({ count }) => (counts.reclaimed += count));
  // The worker carries on after these (Redis restarting, a group re-created): a line each, not a crash.
  worker.on('error', ({ error, context }) => bar.log(`sluice: ${worker.group}/${worker.consumer}: ${oneLine(`${context}: ${errorText(error)}`)}`));
  // Subscribed before the worker's first read, so an already idle group is noticed at once.
  const idle = flags.untilIdle ? worker.idle().then(() => 'idle' as const) : new Promise<never>(() => undefined);
  const started = performance.now();
  let stoppedBy: ConsumeSummary['stoppedBy'];
  try {
    const first = await Promise.race([worker.ready.then(() => undefined), stop.signal]);
    if (first !== undefined) stoppedBy = first;
    else {
      bar.start();
      stoppedBy = await Promise.race([idle, stop.signal]);
    }
  } finally {
    if (bar.enabled && worker.inFlight > 0) {
      bar.log(`closing: waiting up to ${flags.shutdownTimeout} for ${worker.inFlight} event${worker.inFlight === 1 ? '' : 's'} in flight (Ctrl-C again to exit now)`);
    }
    // Also when the start failed (the group could not be created): nothing is left running.
    await worker.close({ timeout: parseDuration(flags.shutdownTimeout, '--shutdown-timeout') });
    bar.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  return { stream: worker.stream, group: worker.group, consumer: worker.consumer, ...counts, seconds: Math.round(seconds * 1000) / 1000, stoppedBy };
}

function progressDetail(counts: { failedAttempts: number; deadLettered: number; reclaimed: number }, inFlight: number): string {
  const parts = [`${formatCount(inFlight)} in flight`];
  if (counts.failedAttempts > 0) parts.push(`${formatCount(counts.failedAttempts)} failed`);
  if (counts.deadLettered > 0) parts.push(`${formatCount(counts.deadLettered)} dead-lettered`);
  if (counts.reclaimed > 0) parts.push(`${formatCount(counts.reclaimed)} reclaimed`);
  return parts.join('  ');
}

/** The one-line summary printed at the end (without --json). */
export function renderSummary(summary: ConsumeSummary): string {
  const plural = (n: number, one: string, many: string) => `${formatCount(n)} ${n === 1 ? one : many}`;
  const why = summary.stoppedBy === 'idle' ? 'the group is idle' : `stopped by ${summary.stoppedBy}`;
  return (
    `processed ${plural(summary.processed, 'event', 'events')} from ${summary.stream} (group ${summary.group}, consumer ${summary.consumer}) in ${summary.seconds.toFixed(2)} s: ` +
    `${plural(summary.failedAttempts, 'failed attempt', 'failed attempts')}, ${formatCount(summary.retried)} retried, ` +
    `${formatCount(summary.deadLettered)} dead-lettered, ${formatCount(summary.reclaimed)} reclaimed; ${why}`
  );
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message || error.name : String(error);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
