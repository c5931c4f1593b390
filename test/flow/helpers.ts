import { spawn } from 'node:child_process';
import type { RedisConnection } from '../../src/redis/connection.js';
import type { RedisServer } from '../helpers/redis-server.js';

type RawEntry = [id: string, fields: string[]];

/** Creates a consumer group at `from` (`0`: it has read nothing yet; `$`: only what comes next). */
export async function createGroup(conn: RedisConnection, stream: string, group: string, from: '0' | '$'): Promise<void> {
  await conn.command(['XGROUP', 'CREATE', stream, group, from, 'MKSTREAM']);
}

/** XREADGROUP `>` for a group, as a consumer would: the IDs delivered (now pending). */
export async function readNew(conn: RedisConnection, stream: string, group: string, count = 100_000): Promise<string[]> {
  const reply = await conn.command<Array<[string, RawEntry[]]> | null>(['XREADGROUP', 'GROUP', group, 'c1', 'COUNT', String(count), 'STREAMS', stream, '>']);
  return (reply?.[0]?.[1] ?? []).map(([id]) => id);
}

/** Reads everything new for the group and acknowledges it: the group is caught up. */
export async function catchUp(conn: RedisConnection, stream: string, group: string): Promise<string[]> {
  const ids = await readNew(conn, stream, group);
  if (ids.length > 0) await conn.command(['XACK', stream, group, ...ids]);
  return ids;
}

/** The IDs of a stream, oldest first (XRANGE - +). */
export async function streamIds(conn: RedisConnection, stream: string): Promise<string[]> {
  const entries = await conn.command<RawEntry[]>(['XRANGE', stream, '-', '+']);
  return entries.map(([id]) => id);
}

/** The `lag` XINFO GROUPS reports for a group (null when Redis cannot tell). */
export async function xinfoLag(conn: RedisConnection, stream: string, group: string): Promise<number | null> {
  const groups = await conn.command<unknown[][]>(['XINFO', 'GROUPS', stream]);
  for (const fields of groups) {
    const info: Record<string, unknown> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) info[String(fields[i])] = fields[i + 1];
    if (info.name === group) return info.lag === null || info.lag === undefined ? null : Number(info.lag);
  }
  throw new Error(`no group ${group} on ${stream}`);
}

/** A value of `INFO <section>` (e.g. `connected_slaves` of `replication`). */
export async function infoField(server: RedisServer, section: string, field: string): Promise<string | undefined> {
  const text = await server.cli('INFO', section);
  return new RegExp(`^${field}:(.*?)\\r?$`, 'm').exec(text)?.[1];
}

/**
 * How many times the server ran `command` (INFO commandstats; commands called by scripts count
 * too). Subcommands are counted apart: `xinfo|groups`.
 */
export async function calls(server: RedisServer, command: string): Promise<number> {
  const stats = await server.cli('INFO', 'commandstats');
  const name = command.toLowerCase().replace(/[|]/g, '\\|');
  const match = new RegExp(`^cmdstat_${name}:calls=(\\d+)`, 'm').exec(stats);
  return match ? Number(match[1]) : 0;
}

/** What a fixture process printed, once it exited. */
export interface FixtureRun {
  code: number | null;
  stdout: string[];
  stderr: string[];
}

/** Runs `node dist/test/flow/fixtures/<name>.js <options as JSON>` to its end (killed after `timeout` ms). */
export function runFixture(name: string, options: unknown, timeout = 30_000): Promise<FixtureRun> {
  const script = new URL(`./fixtures/${name}.js`, import.meta.url);
  const child = spawn(process.execPath, [script.pathname, JSON.stringify(options)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SLUICE_LOG_LEVEL: 'info' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += String(chunk)));
  child.stderr.on('data', (chunk) => (stderr += String(chunk)));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeout);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      const lines = (text: string) => text.split('\n').filter((line) => line.trim() !== '');
      resolve({ code, stdout: lines(stdout), stderr: lines(stderr) });
    });
  });
}
