import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chown, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../../src/redis/managed-server.js';
import { useFixture } from './fixtures.js';
import { waitFor } from './wait.js';

const run = promisify(execFile);

/** A real PostgreSQL server on a free loopback port, in its own temporary folder. */
export interface PostgresServer {
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication, loopback only). */
  readonly url: string;
  readonly dir: string;
  /** Runs one statement on a short-lived connection and returns its rows. */
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  /** Stops the server and removes its folder. */
  close(): Promise<void>;
}

const INSTALL_HINT = 'install the Debian package `postgresql` (apt-get install -y postgresql, or run scripts/install-system-deps.sh)';

/** The newest `/usr/lib/postgresql/<version>/bin` that has initdb and postgres. */
export async function findPostgresBin(): Promise<string> {
  const root = '/usr/lib/postgresql';
  let versions: string[] = [];
  try {
    versions = await readdir(root);
  } catch {
    // handled below
  }
  versions.sort((a, b) => Number(b) - Number(a));
  for (const version of versions) {
    const bin = join(root, version, 'bin');
    try {
      await stat(join(bin, 'initdb'));
      await stat(join(bin, 'postgres'));
      return bin;
    } catch {
      // not this one
    }
  }
  throw new Error(`PostgreSQL is not installed (no ${root}/<version>/bin/initdb): ${INSTALL_HINT}`);
}

/** The uid and gid of the `postgres` OS user (PostgreSQL refuses to run as root). */
async function postgresUser(): Promise<{ uid: number; gid: number }> {
  const passwd = await readFile('/etc/passwd', 'utf8');
  const line = passwd.split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error(`There is no \`postgres\` OS user to run PostgreSQL as (tests run as root): ${INSTALL_HINT}`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * Starts PostgreSQL for a test file: `initdb` in a temporary folder, then `postgres` on a free
 * loopback port. As root, both run as the `postgres` OS user (PostgreSQL refuses root), with the
 * folder owned by it; otherwise as the current user. There is no fallback: without PostgreSQL the
 * test fails with a message naming the package to install.
 */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = await findPostgresBin();
  const asUser = process.getuid?.() === 0 ? await postgresUser() : undefined;
  const dir = await mkdtemp(join(tmpdir(), 'sluice-test-pg-'));
  if (asUser) await chown(dir, asUser.uid, asUser.gid);
  const data = join(dir, 'data');
  const env = { ...process.env, LC_ALL: 'C', LANG: 'C', HOME: dir };
  const owner = asUser ? { uid: asUser.uid, gid: asUser.gid } : {};
  try {
    await run(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'], {
      env,
      cwd: dir,
      ...owner,
    });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    const detail = (error as { stderr?: string }).stderr ?? String(error);
    throw new Error(`initdb failed: ${detail}`);
  }
  const port = await freePort();
  const args = [
    '-D', data,
    '-p', String(port),
    '-k', dir, // the unix socket lives in the temp folder, not /var/run/postgresql
    '-c', 'listen_addresses=127.0.0.1',
    // A test database: durability is not what is tested here, speed is welcome.
    '-c', 'fsync=off',
    '-c', 'synchronous_commit=off',
    '-c', 'full_page_writes=off',
    '-c', 'max_connections=100',
  ];
  const child: ChildProcess = spawn(join(bin, 'postgres'), args, { env, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], ...owner });
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr += String(chunk)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;

  const query = async <R>(sql: string, params: unknown[] = []): Promise<R[]> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows as R[];
    } finally {
      await client.end();
    }
  };
  const close = async () => {
    if (!gone) {
      child.kill('SIGQUIT'); // immediate shutdown: nothing here needs a clean checkpoint
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (!gone) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await Promise.race([
      waitFor(
        async () => {
          await query('SELECT 1');
          return true;
        },
        { timeout: 20_000, interval: 50, message: () => `PostgreSQL on port ${port} did not accept connections: ${stderr}` },
      ),
      exited.then(() => {
        throw new Error(`postgres exited before accepting connections: ${stderr}`);
      }),
    ]);
  } catch (error) {
    await close();
    throw error;
  }
  return { port, url, dir, query, close };
}

/** A PostgreSQL server of the file's own (see `startPostgres`). */
export interface PostgresFixture {
  readonly server: PostgresServer;
}

/** Starts PostgreSQL for the file before its tests; stops it and removes its folder after. */
export function usePostgres(): PostgresFixture {
  const server = useFixture('PostgreSQL', () => startPostgres(), (s) => s.close());
  return {
    get server() {
      return server.value;
    },
  };
}
