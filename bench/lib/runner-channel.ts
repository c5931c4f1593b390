import { createInterface } from 'node:readline';
import { LineWaiters } from './line-waiters.js';

/**
 * The child's side of `BenchChild`: the JSON options from argv, lines from the runner on stdin,
 * lines to it on stdout. When the runner goes away (stdin ends) the child exits, so no benchmark
 * process outlives the run.
 */
export class RunnerChannel<O> {
  readonly options: O;
  readonly #lines = new LineWaiters();
  #finished = false;

  constructor() {
    this.options = JSON.parse(process.argv[2] ?? '{}') as O;
    const lines = createInterface({ input: process.stdin });
    lines.on('line', (line) => this.#lines.feed(line));
    lines.on('close', () => {
      if (!this.#finished) process.exit(2);
    });
  }

  /** The rest of the next line from the runner that starts with `prefix`. */
  next(prefix: string): Promise<string> {
    return this.#lines.next(prefix);
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
