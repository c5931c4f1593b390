import { spawn } from 'node:child_process';
import { constants as fsConstants, readFileSync } from 'node:fs';
import { access, mkdir, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { delimiter, join, resolve } from 'node:path';
import { ManagedRedisError } from '../errors.js';
import { delay } from './connection.js';

/**
 * The local redis-server that Sluice starts when no `--redis` URL / REDIS_URL is given: data under
 * `.sluice/redis` (or `$SLUICE_HOME/redis`), AOF `everysec`, `noeviction`, loopback only, on a
 * free port. It outlives the command that started it and is reused by the next one.
 */
export interface ManagedRedisOptions {
  /** Sluice's home folder. @default $SLUICE_HOME, else ./.sluice */
  home?: string;
}

export interface ManagedRedisStatus {
  running: boolean;
  dataDir: string;
  pid?: number;
  port?: number;
  url?: string;
  /** True when `start` found the server already running. */
  reused?: boolean;
}

interface State {
  pid: number;
  port: number;
  startedAt: string;
}

const READY_TIMEOUT_MS = 30_000;
const LOCK_STALE_MS = 60_000;

export function sluiceHome(home?: string): string {
  return resolve(home ?? process.env.SLUICE_HOME ?? '.sluice');
}

export function managedDataDir(options: ManagedRedisOptions = {}): string {
  return join(sluiceHome(options.home), 'redis');
}

/** The redis.conf Sluice writes for its managed server (pure, for tests and for reading). */
export function managedRedisConfig(dataDir: string, port: number): string {
  const q = (path: string) => `"${path.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  return [
    '# Written by Sluice for its managed local redis-server; rewritten at every start.',
    'bind 127.0.0.1',
    'protected-mode yes',
    `port ${port}`,
    'daemonize yes',
    `pidfile ${q(join(dataDir, 'redis.pid'))}`,
    `logfile ${q(join(dataDir, 'redis.log'))}`,
    `dir ${q(dataDir)}`,
    '# Events survive restarts: append-only file, fsynced every second.',
    'appendonly yes',
    'appendfsync everysec',
    'save ""',
    '# Refuse writes when full rather than evict (and lose) streams.',
    'maxmemory-policy noeviction',
    '',
  ].join('\n');
}

export async function managedRedisStatus(options: ManagedRedisOptions = {}): Promise<ManagedRedisStatus> {
  const dataDir = managedDataDir(options);
  const state = await readState(dataDir);
  if (state && isAlive(state.pid) && (await ping(state.port))) {
    return { running: true, dataDir, pid: state.pid, port: state.port, url: urlOf(state.port) };
  }
  return { running: false, dataDir };
}

/** Starts the managed server, or finds it already running; resolves once it answers PING. */
export async function startManagedRedis(options: ManagedRedisOptions = {}): Promise<ManagedRedisStatus & { url: string }> {
  const dataDir = managedDataDir(options);
  await mkdir(dataDir, { recursive: true });
  const release = await lock(join(dataDir, 'start.lock'));
  try {
    const current = await managedRedisStatus(options);
    if (current.running) return { ...current, url: current.url as string, reused: true };
    const server = await findRedisServer();
    let lastError: unknown;
    // A free port can be taken between the probe and redis-server's bind: try a few.
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      try {
        const pid = await launch(server, dataDir, port);
        await writeFile(join(dataDir, 'server.json'), JSON.stringify({ pid, port, startedAt: new Date().toISOString() }) + '\n');
        return { running: true, dataDir, pid, port, url: urlOf(port), reused: false };
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  } finally {
    await release();
  }
}

/** Stops the managed server (SIGTERM: Redis flushes the AOF and exits). */
export async function stopManagedRedis(options: ManagedRedisOptions = {}): Promise<{ stopped: boolean; pid?: number; dataDir: string }> {
  const dataDir = managedDataDir(options);
  const state = await readState(dataDir);
  if (!state || !isAlive(state.pid)) {
    await rm(join(dataDir, 'server.json'), { force: true });
    return { stopped: false, dataDir };
  }
  process.kill(state.pid, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (isAlive(state.pid)) {
    if (Date.now() > deadline) {
      throw new ManagedRedisError('ERR_MANAGED_REDIS', `redis-server (pid ${state.pid}) did not exit within 30 s of SIGTERM; see ${join(dataDir, 'redis.log')}`);
    }
    await delay(25);
  }
  await rm(join(dataDir, 'server.json'), { force: true });
  return { stopped: true, pid: state.pid, dataDir };
}

/** The redis-server binary: `$SLUICE_REDIS_SERVER`, else the first on PATH (or /usr/sbin, /usr/bin). */
export async function findRedisServer(): Promise<string> {
  const install = 'Install it (Debian/Ubuntu: `sudo apt-get install redis-server`; macOS: `brew install redis`)';
  const explicit = process.env.SLUICE_REDIS_SERVER;
  if (explicit) {
    if (await isExecutable(explicit)) return explicit;
    throw new ManagedRedisError(
      'ERR_REDIS_NOT_INSTALLED',
      `SLUICE_REDIS_SERVER is \`${explicit}\`, which is not an executable file. ${install} and point SLUICE_REDIS_SERVER at its redis-server, or unset it to use the one on PATH`,
    );
  }
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/sbin', '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs) {
    const candidate = join(dir, 'redis-server');
    if (await isExecutable(candidate)) return candidate;
  }
  throw new ManagedRedisError(
    'ERR_REDIS_NOT_INSTALLED',
    `redis-server was not found on PATH. ${install}, set SLUICE_REDIS_SERVER to its path, or pass --redis URL / set REDIS_URL to use a running server`,
  );
}

async function launch(server: string, dataDir: string, port: number): Promise<number> {
  const confPath = join(dataDir, 'redis.conf');
  await writeFile(confPath, managedRedisConfig(dataDir, port));
  await rm(join(dataDir, 'redis.pid'), { force: true });
  // With `daemonize yes` the launched process forks the server and exits at once.
  const exitCode = await new Promise<number | null>((resolvePromise, reject) => {
    const child = spawn(server, [confPath], { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => resolvePromise(code));
  });
  if (exitCode !== 0) {
    throw new ManagedRedisError('ERR_MANAGED_REDIS', `redis-server exited with code ${exitCode} at start; see ${join(dataDir, 'redis.log')}`);
  }
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const pid = await readPid(dataDir);
    if (pid !== undefined && (await ping(port))) return pid;
    if (pid !== undefined && !isAlive(pid)) break;
    if (Date.now() > deadline) break;
    await delay(20);
  }
  const log = await readFile(join(dataDir, 'redis.log'), 'utf8').catch(() => '');
  const lastLines = log.trim().split('\n').slice(-3).join(' | ');
  throw new ManagedRedisError('ERR_MANAGED_REDIS', `redis-server did not become ready on 127.0.0.1:${port}${lastLines ? `: ${lastLines}` : ''}`);
}

/** True when something on the port answers PING with PONG (not LOADING: not ready yet). */
export function ping(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolvePromise(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.once('error', () => done(false));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePromise(port));
    });
  });
}

function urlOf(port: number): string {
  return `redis://127.0.0.1:${port}`;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/**
 * The daemonized server's parent is init: once it exits, it stays a zombie (signal 0 still
 * succeeds) until init reaps it, which some container inits do late or never. A zombie has exited.
 */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // `pid (comm) state …`: comm may hold spaces and parentheses, so read after the last `)`.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

async function readState(dataDir: string): Promise<State | undefined> {
  try {
    const state = JSON.parse(await readFile(join(dataDir, 'server.json'), 'utf8')) as Partial<State>;
    return Number.isInteger(state.pid) && Number.isInteger(state.port) ? (state as State) : undefined;
  } catch {
    return undefined;
  }
}

async function readPid(dataDir: string): Promise<number | undefined> {
  const text = await readFile(join(dataDir, 'redis.pid'), 'utf8').catch(() => '');
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, fsConstants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** A lock file so two commands starting at once share one server instead of racing. */
async function lock(path: string): Promise<() => Promise<void>> {
  const deadline = Date.now() + READY_TIMEOUT_MS + 5000;
  for (;;) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return () => rm(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const info = await stat(path).catch(() => undefined);
      const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
      const stale = !info || Date.now() - info.mtimeMs > LOCK_STALE_MS || (Number.isInteger(holder) && holder > 0 && !isAlive(holder));
      if (stale) await rm(path, { force: true });
      else if (Date.now() > deadline) throw new ManagedRedisError('ERR_MANAGED_REDIS', `Another process holds ${path}; remove it if no sluice command is starting Redis`);
      else await delay(25);
    }
  }
}
