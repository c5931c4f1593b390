import { spawn, type ChildProcess } from 'node:child_process';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findRedisServer, freePort, ping } from '../../src/redis/managed-server.js';
import { waitFor } from './wait.js';

const run = promisify(execFile);

export interface RedisServerOptions {
  /** Turn on the append-only file (restart tests). @default false */
  appendonly?: boolean;
  /** @default 'everysec' */
  appendfsync?: 'always' | 'everysec' | 'no';
  /** More `--name value` arguments for redis-server. */
  args?: string[];
}

/** A real redis-server on a free loopback port, in its own temporary folder. */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  readonly pid: number;
  /** Runs redis-cli against this server and returns its stdout (trimmed). */
  cli(...args: string[]): Promise<string>;
  /** Stops the server (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Kills the server (SIGKILL by default) and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and folder (AOF reloaded); resolves once it answers PING. */
  start(): Promise<void>;
  /** Stops it for good and removes its folder. */
  close(): Promise<void>;
}

/**
 * Starts redis-server for a test file. There is no fallback: without redis-server the test fails
 * with the message naming the package to install.
 */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const binary = await findRedisServer();
  const dir = await mkdtemp(join(tmpdir(), 'sluice-test-redis-'));
  const port = await freePort();
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--dir', dir,
    '--save', '',
    '--appendonly', options.appendonly ? 'yes' : 'no',
    '--appendfsync', options.appendfsync ?? 'everysec',
    '--maxmemory-policy', 'noeviction',
    ...(options.args ?? []),
  ];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async () => {
    // A second process on the same port and folder would orphan the first one.
    if (child && child.exitCode === null && child.signalCode === null) throw new Error(`redis-server on port ${port} is already running`);
    const proc = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    let stderr = '';
    proc.stderr?.on('data', (chunk) => (stderr += String(chunk)));
    await waitFor(() => ping(port, 200), {
      timeout: 15_000,
      message: () => `redis-server on port ${port} did not answer PING: ${stderr}`,
    });
  };
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await exited;
  };
  await start();
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    get pid() {
      return child?.pid ?? -1;
    },
    async cli(...cliArgs: string[]) {
      const { stdout } = await run('redis-cli', ['-p', String(port), ...cliArgs]);
      return stdout.trim();
    },
    stop: () => kill('SIGTERM'),
    kill,
    start,
    async close() {
      await kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
  return server;
}

let counter = 0;

/** A key prefix of its own for each test, so tests sharing a server never see each other's keys. */
export function uniquePrefix(name = 't'): string {
  return `test:${name}:${process.pid}:${++counter}:`;
}
