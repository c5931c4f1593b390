import type { Command } from 'commander';
import type { ConnectOptions, ManagedRedisOptions, Sluice } from '../index.js';
import { redisUrl } from './options.js';

/** The options every command accepts (declared on the program in main.ts). */
export interface GlobalOptions {
  /** `--redis URL`; else REDIS_URL, else the managed local redis-server. */
  redis?: string;
  /** `--json`: JSON output instead of tables and sentences. */
  json: boolean;
  /** `--debug`: stack traces with errors. */
  debug: boolean;
  /** `--home DIR`: the managed server's home; else $SLUICE_HOME, else ./.sluice. */
  home?: string;
  /** `--timeout DURATION`: deadline of the connection and of each operation. */
  timeout?: string;
}

/** The global options as seen from a sub-command (they may be written before or after it). */
export function globalOptions(command: Command): GlobalOptions {
  const all = command.optsWithGlobals<Partial<GlobalOptions>>();
  return {
    redis: all.redis,
    json: all.json === true,
    debug: all.debug === true,
    home: all.home,
    timeout: all.timeout,
  };
}

export function managedOptions(globals: GlobalOptions): ManagedRedisOptions {
  return globals.home === undefined ? {} : { home: globals.home };
}

/** What `connect()` gets from the global options. */
export function connectOptions(globals: GlobalOptions): ConnectOptions {
  const options: ConnectOptions = { managed: managedOptions(globals) };
  // REDIS_URL is checked here, so that a bad one is reported by its name.
  const url = globals.redis ?? (process.env.REDIS_URL === undefined ? undefined : redisUrl('REDIS_URL')(process.env.REDIS_URL));
  if (url !== undefined) options.url = url;
  if (globals.timeout !== undefined) {
    options.commandTimeout = globals.timeout;
    options.connectTimeout = globals.timeout;
  }
  return options;
}

/**
 * Opens a Sluice from the global options, runs `work` with it and always closes it, so the process
 * exits as soon as the command is done. A failure to close never hides the command's own error.
 */
export async function withSluice<T>(globals: GlobalOptions, work: (sluice: Sluice) => Promise<T>): Promise<T> {
  // Loaded here, not at start-up: the Redis client takes a few hundred ms to load, which --help
  // and usage errors need not wait for.
  const { connect } = await import('../sluice.js');
  const sluice = await connect(connectOptions(globals));
  let result: T;
  try {
    result = await work(sluice);
  } catch (error) {
    await sluice.close().catch(() => undefined);
    throw error;
  }
  await sluice.close();
  return result;
}
