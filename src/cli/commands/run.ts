import type { Command } from 'commander';
import type { Pipeline, PipelineStats, RunningPipeline } from '../../pipeline/index.js';
import { parseListenAddress } from '../../observe/metrics-endpoint.js';
import { parseDuration } from '../../stream/time.js';
import { globalOptions, withSluice } from '../context.js';
import { duration, UsageError } from '../options.js';
import { formatCount, note, writeJson, writeLine } from '../output.js';
import { serveMetricsFlag, type MetricsAddress } from '../metrics-flag.js';
import { watchSignals } from '../signals.js';

interface RunFlags {
  check?: boolean;
  untilIdle?: boolean;
  pipeline?: string[];
  shutdownTimeout: string;
  metricsPort?: MetricsAddress;
}

/** One pipeline in the `--json` summary of `sluice run`. */
export interface RunPipelineSummary extends PipelineStats {
  name: string;
  stream: string;
  group: string;
  source: string;
}

/** What `sluice run` prints at the end (`--json`). */
export interface RunSummary {
  pipelines: RunPipelineSummary[];
  seconds: number;
  /** `idle` (with --until-idle), the signal that stopped it, or `error` when a source failed. */
  stoppedBy: 'idle' | 'SIGINT' | 'SIGTERM' | 'error';
}

/** After the summary, the process should end even if a map module holds a timer or a pool open. */
const EXIT_GRACE_MS = 1000;

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('run the pipelines of a YAML file (or a JavaScript module): a source, filters, maps and routes, sinks — through a consumer group')
    .argument('<file>', 'pipeline.yaml, or a .js/.mjs module whose default export is definePipeline({ … }) (or a list)')
    .option('--check', 'check the file (keys, expressions, sinks, modules, environment variables) and exit, without connecting')
    .option('--until-idle', 'exit once every pipeline\'s group has nothing undelivered and nothing pending (after a file, stdin or a counted generator is fully published)')
    .option('--pipeline <names...>', 'run only these pipelines of the file (by name)')
    .option('--shutdown-timeout <duration>', 'on Ctrl-C or SIGTERM, time in-flight events get to be written; then they stay pending for the next run', duration('--shutdown-timeout'), '10s')
    .option('--metrics-port <[host:]port>', 'serve Prometheus metrics of the pipelines at http://host:port/metrics (host defaults to 127.0.0.1; docs/metrics.md)', (value: string) =>
      parseListenAddress(value, '--metrics-port'),
    )
    .addHelpText(
      'after',
      `
The file is checked entirely before anything connects: a mistake exits with code 2 and a line
like \`pipeline.yaml:12:9: steps[1].route[0].when: expected a CEL expression …\`.
\${NAME} and \${NAME:-default} in values are replaced by environment variables.
Runs until Ctrl-C or SIGTERM (graceful: the source stops, the last batches are written, the
sinks close), or with --until-idle until the work is done. The YAML reference: docs/pipelines.md.

Examples:
  $ sluice run pipeline.yaml --check
  $ DATABASE_URL=postgres://localhost/shop sluice run pipeline.yaml
  $ sluice run backfill.yaml --until-idle --json`,
    )
    .action(async (file: string, flags: RunFlags, command: Command) => {
      const globals = globalOptions(command);
      // Loaded here: --help need not load the YAML parser, the expression language and the sinks.
      const { loadPipelineFile } = await import('../../pipeline/load-config.js');
      const pipelines = select(await loadPipelineFile(file), flags.pipeline, file);
      if (flags.check) {
        if (globals.json) await writeJson({ ok: true, file, pipelines: pipelines.map(describe) });
        else await writeLine(`${file}: ok, ${pipelines.length === 1 ? '1 pipeline' : `${pipelines.length} pipelines`}: ${pipelines.map((p) => p.name).join(', ')}`);
        return;
      }
      if (flags.untilIdle) checkEnds(pipelines, file);
      const shutdownMs = parseDuration(flags.shutdownTimeout, '--shutdown-timeout');
      const stop = watchSignals();
      try {
        await withSluice(globals, async (sluice) => {
          const { runPipeline } = await import('../../pipeline/run-pipeline.js');
          // Listening first: a port in use fails before any event is taken.
          const served = await serveMetricsFlag(sluice, [...new Set(pipelines.map((p) => p.stream))], flags.metricsPort);
          const started = performance.now();
          const running: RunningPipeline[] = [];
          let stoppedBy: RunSummary['stoppedBy'] | undefined;
          let failure: unknown;
          try {
            for (const pipeline of pipelines) {
              const starting = runPipeline(pipeline, { sluice });
              const first = await Promise.race([starting, stop.signal]);
              if (typeof first === 'string') {
                stoppedBy = first;
                // Started all the same: closed below with the others.
                const late = await starting.catch(() => undefined);
                if (late) running.push(late);
                break;
              }
              running.push(first);
              served?.metrics.workers.instrument(first.worker);
              note(startedLine(first));
            }
            if (stoppedBy === undefined) {
              const failed = sourceFailure(running);
              const idle = flags.untilIdle ? allIdle(running).then(() => 'idle' as const) : new Promise<never>(() => undefined);
              const outcome = await Promise.race([idle, stop.signal, failed]);
              if (typeof outcome === 'string') stoppedBy = outcome;
              else {
                stoppedBy = 'error';
                failure = outcome.error;
              }
            }
          } catch (error) {
            // A failed idle() is a failed source: reported like one, after the summary.
            stoppedBy = 'error';
            failure = error;
          } finally {
            if (running.length > 0 && stoppedBy !== 'idle' && stoppedBy !== 'error') note(`closing: writing the last batches (up to ${flags.shutdownTimeout}; Ctrl-C again to exit now)`);
            await Promise.all(running.map((p) => p.close({ timeout: shutdownMs })));
            await served?.endpoint.close();
          }
          const summary: RunSummary = {
            pipelines: running.map((p) => ({ name: p.name, stream: p.stream, group: p.group, source: p.source.type, ...p.stats() })),
            seconds: Math.round(performance.now() - started) / 1000,
            stoppedBy: stoppedBy ?? 'error',
          };
          if (globals.json) await writeJson(summary);
          else for (const line of renderSummary(summary)) await writeLine(line);
          if (failure !== undefined) throw failure;
        });
      } finally {
        stop.dispose();
        setTimeout(() => process.exit(), EXIT_GRACE_MS).unref();
      }
    });
}

function select(pipelines: Pipeline[], names: string[] | undefined, file: string): Pipeline[] {
  if (names === undefined) return pipelines;
  const unknown = names.find((name) => !pipelines.some((p) => p.name === name));
  if (unknown !== undefined) throw new UsageError(`Expected \`--pipeline\` to name a pipeline of ${file} (${pipelines.map((p) => p.name).join(', ')}), got \`${unknown}\``);
  return pipelines.filter((p) => names.includes(p.name));
}

/** --until-idle needs work that ends: a generator without `count` never does. */
function checkEnds(pipelines: Pipeline[], file: string): void {
  for (const pipeline of pipelines) {
    const source = pipeline.plan.source.config as { type?: string; count?: number };
    if (source.type === 'generator' && source.count === undefined) {
      throw new UsageError(`\`--until-idle\` would never end: pipeline ${pipeline.name} of ${file} has a generator source without \`count\``);
    }
  }
}

function describe(pipeline: Pipeline) {
  return {
    name: pipeline.name,
    stream: pipeline.stream,
    group: pipeline.group,
    source: (pipeline.plan.source.config as { type: string }).type,
    sinks: pipeline.plan.sinks.map((s) => s.name),
  };
}

function startedLine(pipeline: RunningPipeline): string {
  const sinks = Object.keys(pipeline.stats().written).join(', ');
  const from = pipeline.source.type === 'stream' ? pipeline.stream : `${pipeline.source.type} → ${pipeline.stream}`;
  const url = pipeline.source.url === undefined ? '' : `; POST ${pipeline.source.url}/streams/${pipeline.stream}/events`;
  return `running ${pipeline.name}: ${from} (group ${pipeline.group}) → ${sinks}${url}`;
}

/**
 * Resolves once every pipeline is idle at the same time: a pipeline reading another's output
 * may be idle before the other wrote to it, so rounds repeat until one in which nothing moved.
 */
async function allIdle(running: readonly RunningPipeline[]): Promise<void> {
  const progress = () => running.reduce((sum, p) => sum + p.stats().processed + p.stats().deadLettered, 0);
  for (;;) {
    const before = progress();
    await Promise.all(running.map((p) => p.idle()));
    if (running.length === 1 || progress() === before) return;
  }
}

/** Resolves with the first source that fails (never, if none does). */
function sourceFailure(running: readonly RunningPipeline[]): Promise<{ error: unknown }> {
  return new Promise((resolve) => {
    for (const pipeline of running) pipeline.source.finished.catch((error: unknown) => resolve({ error }));
  });
}

/** One line per pipeline, without --json. */
export function renderSummary(summary: RunSummary): string[] {
  const why = summary.stoppedBy === 'idle' ? 'idle' : summary.stoppedBy === 'error' ? 'stopped by an error' : `stopped by ${summary.stoppedBy}`;
  return summary.pipelines.map((p) => {
    const sinks = Object.entries(p.written)
      .map(([name, count]) => `${name} ${formatCount(count)}`)
      .join(', ');
    const published = p.source === 'stream' ? '' : `published ${formatCount(p.published)}, `;
    return (
      `${p.name}: ${published}processed ${formatCount(p.processed)} (filtered ${formatCount(p.filtered)}, dead-lettered ${formatCount(p.deadLettered)}); ` +
      `written: ${sinks}; ${summary.seconds.toFixed(2)} s, ${why}`
    );
  });
}
