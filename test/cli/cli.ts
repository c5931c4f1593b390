import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: the tests run compiled from dist/test/cli/. */
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const binPath = join(repoRoot, 'bin', 'sluice.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit. */
  ms: number;
}

export interface CliOptions {
  /** Written to the CLI's stdin, which is then closed. */
  input?: string;
  /** Environment on top of the test's own (undefined removes a variable). */
  env?: Record<string, string | undefined>;
  /** Kill the CLI and fail after this long. @default 20000 */
  timeout?: number;
}

/** A running CLI process, with its output so far. */
export interface CliProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<CliResult>;
}

/**
 * Starts `node bin/sluice.js …` from the repository root, as a user would run it. REDIS_URL is
 * removed, and a managed redis-server cannot be started by accident (SLUICE_REDIS_SERVER points
 * nowhere) unless the test's `env` says otherwise: every test names its server with --redis.
 */
export function spawnCli(args: readonly string[], options: CliOptions = {}): CliProcess {
  const env: Record<string, string | undefined> = {
    ...process.env,
    REDIS_URL: undefined,
    SLUICE_REDIS_SERVER: '/nonexistent/redis-server',
    ...options.env,
  };
  for (const name of Object.keys(env)) if (env[name] === undefined) delete env[name];
  const started = Date.now();
  const child = spawn(process.execPath, [binPath, ...args], { cwd: repoRoot, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  if (options.input !== undefined) child.stdin?.end(options.input);
  else child.stdin?.end();
  const timeout = options.timeout ?? 20_000;
  const exited = new Promise<CliResult>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sluice ${args.join(' ')} did not exit within ${timeout} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeout);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Runs the CLI to completion. */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return spawnCli(args, options).exited;
}

/** The non-empty lines of an output. */
export function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.length > 0);
}

/** Describes a result for assertion messages. */
export function explain(result: CliResult): string {
  return `exit ${result.code}${result.signal ? ` (${result.signal})` : ''}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
}
