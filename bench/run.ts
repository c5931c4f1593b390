/**
 * `npm run bench [-- --events N --rounds N --scenario publish --json]`: runs every scenario of
 * bench/scenarios against a private redis-server and prints a table, or one JSON object.
 * Benchmarks measure and record; they are not tests.
 */
import { execFile } from 'node:child_process';
import { availableParallelism, cpus, loadavg, release } from 'node:os';
import { promisify } from 'node:util';
import { parseArgs, USAGE } from './lib/args.js';
import { watchHostCpu } from './lib/host-cpu.js';
import { startPrivateRedis } from './lib/private-redis.js';
import { formatTable, type Report } from './lib/report.js';
import type { ScenarioResult } from './lib/scenario.js';
import { scenarios } from './scenarios/index.js';

const run = promisify(execFile);

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    console.log(USAGE);
    return;
  }
  const unknown = args.only.filter((name) => !scenarios.some((s) => s.name === name));
  if (unknown.length) throw new Error(`Unknown scenario ${unknown.join(', ')}: expected one of ${scenarios.map((s) => s.name).join(', ')}`);
  const selected = args.only.length ? scenarios.filter((s) => args.only.includes(s.name)) : scenarios;

  for (const scenario of selected) await scenario.check?.();
  const loadAverage = loadavg()[0] as number;
  const redis = await startPrivateRedis();
  const log = (message: string) => process.stderr.write(`${message}\n`);
  log(`redis-server ${redis.binary} on port ${redis.port}`);
  const results: ScenarioResult[] = [];
  try {
    for (const scenario of selected) {
      log(`scenario ${scenario.name}: ${scenario.description}`);
      const hostCpu = watchHostCpu();
      const result = await scenario.run({
        url: redis.url,
        port: redis.port,
        events: args.events,
        rounds: args.rounds,
        backlog: args.backlog,
        durationS: args.durationS,
        outageS: args.outageS,
        log,
      });
      const host = hostCpu();
      results.push(host ? { ...result, host } : result);
    }
  } finally {
    await redis.stop();
  }
  const report: Report = {
    date: new Date().toISOString(),
    machine: {
      nproc: availableParallelism(),
      cpu: cpus()[0]?.model.trim() ?? 'unknown',
      node: process.version,
      redis: await redisVersion(redis.binary),
      platform: `${process.platform} ${release()}`,
      loadAverage,
    },
    options: { events: args.events, rounds: args.rounds, backlog: args.backlog, durationS: args.durationS, outageS: args.outageS },
    scenarios: results,
  };
  if (args.json) console.log(JSON.stringify(report));
  else console.log(formatTable(report));
}

async function redisVersion(binary: string): Promise<string> {
  const { stdout } = await run(binary, ['--version']);
  return /v=(\S+)/.exec(stdout)?.[1] ?? stdout.trim();
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
