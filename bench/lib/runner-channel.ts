import { createInterface } from 'node:readline';

/**
 * The child's side of `BenchChild`: the JSON options from argv, lines from the runner on stdin,
 * lines to it on stdout. When the runner goes away (stdin ends) the child exits, so no benchmark
 * process outlives the run.
 */
export class RunnerChannel<O> {
  readonly options: O;
  readonly #waiters: Array<{ prefix: string; resolve: (rest: string) => void }> = [];
  readonly #unclaimed: string[] = [];
  #finished = false;

  constructor() {
    this.options = JSON.parse(process.argv[2] ?? '{}') as O;
    const lines = createInterface({ input: process.stdin });
    lines.on('line', (line) => {
      const index = this.#waiters.findIndex((w) => line.startsWith(w.prefix));
      if (index < 0) {
        this.#unclaimed.push(line);
        return;
      }
      const [waiter] = this.#waiters.splice(index, 1);
      waiter?.resolve(line.slice(waiter.prefix.length));
    });
    lines.on('close', () => {
      if (!this.#finished) process.exit(2);
    });
  }

  /** The rest of the next line from the runner that starts with `prefix`. */
  next(prefix: string): Promise<string> {
    const index = this.#unclaimed.findIndex((line) => line.startsWith(prefix));
    if (index >= 0) return Promise.resolve((this.#unclaimed.splice(index, 1)[0] as string).slice(prefix.length));
    return new Promise((resolve) => this.#waiters.push({ prefix, resolve }));
  }

  /** Calls `fn` with the rest of every line starting with `prefix`, from now on. */
  onEvery(prefix: string, fn: (rest: string) => void): void {
    const again = () => void this.next(prefix).then((rest) => (fn(rest), again()));
    again();
  }

  send(prefix: string, data?: unknown): void {
    process.stdout.write(data === undefined ? `${prefix}\n` : `${prefix} ${JSON.stringify(data)}\n`);
  }

  /** Sends the last line and exits once stdout is flushed. */
  finish(prefix: string, data: unknown): void {
    this.#finished = true;
    process.stdout.write(`${prefix} ${JSON.stringify(data)}\n`, () => process.exit(0));
  }
}

/** Runs a child's main; a failure goes to stderr (the runner shows it) with a non-zero exit. */
export function runChild(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  });
}
