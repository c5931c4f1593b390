import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRedisServer, freePort, ping } from '../../src/redis/managed-server.js';
import { delay } from '../../src/redis/connection.js';

/** The benchmark's own redis-server: loopback, a free port, no persistence, in a temp folder. */
export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  readonly binary: string;
  /** SIGKILLs the server (an outage: every connection drops, nothing is saved). */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty, after `kill()`; resolves once it answers PING. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

interface Running {
  child: ChildProcess;
  exited: Promise<void>;
}

/**
 * Starts a redis-server that nothing else uses, so numbers are not disturbed by other clients and
 * no persistence (AOF, RDB) competes for the CPU: `appendonly no`, `save ""`.
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const binary = await findRedisServer();
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bench-redis-'));
  let lastError = '';
  // A free port can be taken between the probe and redis-server's bind: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const started = await spawnServer(binary, port, dir);
    if ('error' in started) {
      lastError = started.error;
      continue;
    }
    let running: Running | undefined = started;
    const kill = async () => {
      const current = running;
      running = undefined;
      if (!current) return;
      if (current.child.exitCode === null && current.child.signalCode === null) current.child.kill('SIGKILL');
      await current.exited;
    };
    return {
      port,
      url: `redis://127.0.0.1:${port}`,
      binary,
      kill,
      async restart() {
        await kill();
        const again = await spawnServer(binary, port, dir);
        if ('error' in again) throw new Error(`Could not restart redis-server (${binary}) on port ${port}${again.error ? `: ${again.error}` : ''}`);
        running = again;
      },
      async stop() {
        await kill();
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error(`Could not start redis-server (${binary}) for the benchmark${lastError ? `: ${lastError}` : ''}`);
}

async function spawnServer(binary: string, port: number, dir: string): Promise<Running | { error: string }> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'];
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr += String(chunk)));
  if (await waitForPing(port, child)) return { child, exited };
  child.kill('SIGKILL');
  await exited;
  return { error: stderr.trim() };
}

async function waitForPing(port: number, child: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return false;
    if (await ping(port, 200)) return true;
    await delay(20);
  }
  return false;
}
