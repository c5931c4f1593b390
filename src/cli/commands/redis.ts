import type { Command } from 'commander';
import type { ManagedRedisStatus } from '../../index.js';
import { globalOptions, managedOptions } from '../context.js';
import { keyValues, writeJson, writeLine } from '../output.js';

/** Loaded on use: it pulls in the Redis client, which --help and usage errors need not load. */
const managed = () => import('../../redis/managed-server.js');

export function registerRedis(program: Command): void {
  const redis = program
    .command('redis')
    .description('manage the local redis-server that Sluice starts when no --redis URL or REDIS_URL is given')
    .addHelpText(
      'after',
      `
The managed server keeps its data under $SLUICE_HOME/redis (default ./.sluice/redis; --home DIR
overrides), with AOF everysec and noeviction, listening on 127.0.0.1 only.`,
    );

  redis
    .command('start')
    .description('start the managed redis-server, or find it already running')
    .action(async (_flags: unknown, command: Command) => {
      const globals = globalOptions(command);
      const status = await (await managed()).startManagedRedis(managedOptions(globals));
      await (globals.json ? writeJson(status) : writeLine(renderStatus(status)));
    });

  redis
    .command('status')
    .description('show whether the managed redis-server is running, and where')
    .action(async (_flags: unknown, command: Command) => {
      const globals = globalOptions(command);
      const status = await (await managed()).managedRedisStatus(managedOptions(globals));
      await (globals.json ? writeJson(status) : writeLine(renderStatus(status)));
    });

  redis
    .command('stop')
    .description('stop the managed redis-server (SIGTERM: Redis flushes its AOF first)')
    .action(async (_flags: unknown, command: Command) => {
      const globals = globalOptions(command);
      const result = await (await managed()).stopManagedRedis(managedOptions(globals));
      if (globals.json) await writeJson(result);
      else await writeLine(result.stopped ? `stopped redis-server (pid ${result.pid})` : `redis-server was not running (data dir ${result.dataDir})`);
    });
}

export function renderStatus(status: ManagedRedisStatus): string {
  if (!status.running) return keyValues([['state', 'not running'], ['data dir', status.dataDir]]);
  const state = status.reused === true ? 'running (already running: reused)' : status.reused === false ? 'running (started now)' : 'running';
  return keyValues([
    ['state', state],
    ['url', status.url ?? '-'],
    ['pid', String(status.pid ?? '-')],
    ['port', String(status.port ?? '-')],
    ['data dir', status.dataDir],
  ]);
}
