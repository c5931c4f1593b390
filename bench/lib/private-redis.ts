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
  stop(): Promise<void>;
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
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'];
    const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    let stderr = '';
    child.stderr?.on('data', (chunk) => (stderr += String(chunk)));
    if (await waitForPing(port, child)) {
      return {
        port,
        url: `redis://127.0.0.1:${port}`,
        binary,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
    child.kill('SIGKILL');
    await exited;
    lastError = stderr.trim();
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error(`Could not start redis-server (${binary}) for the benchmark${lastError ? `: ${lastError}` : ''}`);
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
