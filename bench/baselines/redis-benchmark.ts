import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The redis-benchmark binary: `$SLUICE_REDIS_BENCHMARK`, else PATH, /usr/bin, /usr/local/bin. */
export async function findRedisBenchmark(): Promise<string> {
  const explicit = process.env.SLUICE_REDIS_BENCHMARK;
  const candidates = explicit
    ? [explicit]
    : [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/bin', '/usr/local/bin'].map((dir) => join(dir, 'redis-benchmark'));
  for (const candidate of candidates) {
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  throw new Error(
    explicit
      ? `SLUICE_REDIS_BENCHMARK is \`${explicit}\`, which is not an executable file`
      : 'redis-benchmark was not found on PATH: it measures the ceiling. Install it (Debian/Ubuntu: `sudo apt-get install redis-tools`, ' +
          'which redis-server also pulls in; macOS: `brew install redis`) or set SLUICE_REDIS_BENCHMARK to its path',
  );
}

export interface RedisBenchmarkOptions {
  port: number;
  events: number;
  command: readonly string[];
  /** Connections (`-c`). @default 50 */
  clients?: number;
  /** Commands pipelined per connection (`-P`). @default 64 */
  pipeline?: number;
}

/** The arguments of the ceiling run (without `--csv`, which only changes the output format). */
export function redisBenchmarkArgs(options: RedisBenchmarkOptions): string[] {
  return ['-p', String(options.port), '-P', String(options.pipeline ?? 64), '-c', String(options.clients ?? 50), '-n', String(options.events), ...options.command];
}

/**
 * What the server itself can take: redis-benchmark, in C, 50 connections × 64 pipelined commands.
 * Returns its requests per second (parsed from `--csv`).
 */
export async function redisBenchmark(options: RedisBenchmarkOptions & { binary: string }): Promise<number> {
  const args = ['--csv', ...redisBenchmarkArgs(options)];
  const { stdout } = await run(options.binary, args, { maxBuffer: 1 << 20 });
  // "test","rps",… then "XADD …","339558.59",…
  const row = stdout.trim().split('\n').find((line) => !line.startsWith('"test"'));
  const rps = Number(row?.split('","')[1]);
  if (!Number.isFinite(rps) || rps <= 0) throw new Error(`Could not read requests per second from redis-benchmark ${args.join(' ')}: ${stdout}`);
  return rps;
}
