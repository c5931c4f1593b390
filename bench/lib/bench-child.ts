import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { LineWaiters } from './line-waiters.js';
import { fileURLToPath } from 'node:url';

/**
 * A benchmark process started by the runner (a producer, a worker…): `node <script> '<json>'`.
 * It talks in lines: it prints `ready`, `done {json}`…; the runner answers with `go` and the like
 * on its stdin. Lines it prints that nobody waits for yet are kept, so none is missed.
 */
export class BenchChild {
  readonly #child: ChildProcess;
  readonly #lines = new LineWaiters();
  #stderr = '';
  #exitCode: number | null | undefined;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    script: URL,
    options: unknown,
  ) {
    // SLUICE_BENCH_CPU_PROF=<dir>: every benchmark process writes a V8 CPU profile there.
    const profileDir = process.env.SLUICE_BENCH_CPU_PROF;
    const flags = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
    this.#child = spawn(process.execPath, [...flags, fileURLToPath(script), JSON.stringify(options)], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#child.stderr?.on('data', (chunk) => {
      // Only the tail matters for an error message; a chatty child must not grow the runner.
      this.#stderr = (this.#stderr + String(chunk)).slice(-8000);
    });
    // The child may die before we write to it (its own error is the interesting one).
    this.#child.stdin?.on('error', () => undefined);
    this.exited = new Promise((resolve) =>
      this.#child.once('exit', (code) => {
        this.#exitCode = code;
        this.#lines.failAll((prefix) => this.#diedError(`before \`${prefix}\``));
        resolve(code);
      }),
    );
    createInterface({ input: this.#child.stdout as NodeJS.ReadableStream }).on('line', (line) => this.#lines.feed(line));
  }

  get pid(): number {
    return this.#child.pid as number;
  }

  /** The rest of the next line starting with `prefix` (`'ready'`, `'done '`…). */
  line(prefix: string): Promise<string> {
    const waiting = this.#lines.next(prefix);
    // Gone already: a line it printed before exiting still counts, one it never printed cannot come.
    if (this.#exitCode !== undefined) this.#lines.failAll((p) => this.#diedError(`before \`${p}\``));
    return waiting;
  }

  /** The JSON that follows `prefix` on the next such line. */
  async json<T>(prefix: string): Promise<T> {
    return JSON.parse(await this.line(prefix)) as T;
  }

  send(line: string): void {
    this.#child.stdin?.write(`${line}\n`);
  }

  /** Waits for a clean exit; throws with the child's stderr otherwise. */
  async finished(): Promise<void> {
    const code = await this.exited;
    if (code !== 0) throw this.#diedError(`with code ${code}`);
  }

  kill(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
  }

  #diedError(when: string): Error {
    return new Error(`the ${this.name} process exited (${this.#exitCode}) ${when}: ${this.#stderr.trim() || '(no output on stderr)'}`);
  }
}

/** Starts the children together and kills every one of them when `fn` is done or fails. */
export async function withChildren<T>(children: BenchChild[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } finally {
    for (const child of children) child.kill();
  }
}
