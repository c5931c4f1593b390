import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { InvalidInputError, SluiceError } from '../errors.js';
import { registerConsume } from './commands/consume.js';
import { registerDemo } from './commands/demo.js';
import { registerDlq } from './commands/dlq.js';
import { registerDoctor } from './commands/doctor.js';
import { registerGroup } from './commands/group.js';
import { registerGroups } from './commands/groups.js';
import { registerInfo } from './commands/info.js';
import { registerLag } from './commands/lag.js';
import { registerPublish } from './commands/publish.js';
import { registerRange } from './commands/range.js';
import { registerRedis } from './commands/redis.js';
import { registerRun } from './commands/run.js';
import { registerServe } from './commands/serve.js';
import { registerTail } from './commands/tail.js';
import { registerTop } from './commands/top.js';
import { registerTrim } from './commands/trim.js';
import { duration, redisUrl } from './options.js';
import { watchStdout } from './output.js';

/** Exit codes: documented in docs/cli.md. */
export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;

/**
 * Runs the `sluice` command line and resolves to the exit code; never calls `process.exit` on the
 * happy path, so output is flushed and the process ends once the command has closed its
 * connections.
 */
export async function main(argv: string[]): Promise<number> {
  watchStdout();
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'node' });
    return EXIT_OK;
  } catch (error) {
    return report(error, argv.includes('--debug'));
  }
}

export function buildProgram(): Command {
  const program = new Command('sluice');
  // Set before any sub-command is added: sub-commands inherit both. Commander's errors are thrown
  // (not process.exit) and printed by report(), like every other error.
  program.exitOverride();
  program.configureOutput({ outputError: () => undefined });
  program
    .description('Event pipelines on Redis Streams')
    .version(version(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .helpCommand('help [command]', 'show help for a command')
    .option('--redis <url>', 'Redis URL (default: $REDIS_URL, else the managed local redis-server)', redisUrl('--redis'))
    .option('--json', 'print JSON instead of tables and sentences')
    .option('--timeout <duration>', 'deadline to connect and for each operation, e.g. 500ms, 10s (default: 10s; connect 5s)', duration('--timeout', 1))
    .option('--home <dir>', 'home of the managed redis-server (default: $SLUICE_HOME, else ./.sluice)')
    .option('--debug', 'print stack traces with errors')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 runtime error (Redis unreachable, a command failed), 2 usage error.
Reference: docs/cli.md`,
    );
  registerPublish(program);
  registerTail(program);
  registerRange(program);
  registerInfo(program);
  registerLag(program);
  registerTrim(program);
  registerConsume(program);
  registerGroups(program);
  registerGroup(program);
  registerDlq(program);
  registerDoctor(program);
  registerRedis(program);
  registerServe(program);
  registerTop(program);
  registerRun(program);
  registerDemo(program);
  return program;
}

/** Prints an error as one line on stderr (plus its stack with --debug) and picks the exit code. */
function report(error: unknown, debug: boolean): number {
  if (error instanceof CommanderError) {
    // --help and --version "exit" with 0; help printed because a command was missing, with 1.
    if (error.exitCode === 0) return EXIT_OK;
    if (error.code === 'commander.help') return EXIT_USAGE;
    printError(error.message.replace(/^error: /, ''), debug ? error : undefined);
    return EXIT_USAGE;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof SluiceError) {
    printError(message, debug ? error : undefined);
    return error instanceof InvalidInputError ? EXIT_USAGE : EXIT_RUNTIME;
  }
  // Not one of ours: a bug, or something the library let through unmapped.
  printError(`unexpected error: ${message}`, debug ? error : undefined);
  return EXIT_RUNTIME;
}

function printError(message: string, debugError: unknown): void {
  process.stderr.write(`sluice: ${oneLine(message)}\n`);
  if (debugError !== undefined) process.stderr.write(`${stackOf(debugError)}\n`);
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** The stack, and the causes' stacks: the Redis-level error is often the useful one. */
function stackOf(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && current !== null && depth < 5; depth++) {
    parts.push(depth === 0 ? String((current as Error).stack ?? current) : `Caused by: ${String((current as Error).stack ?? current)}`);
    current = (current as { cause?: unknown }).cause;
  }
  return parts.join('\n');
}

function version(): string {
  // dist/src/cli/main.js → the package's package.json.
  const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return manifest.version ?? '0.0.0';
}
