/**
 * Per-key ordering: tasks with the same key run one at a time, in the order they were added;
 * tasks with different keys run in parallel. Lanes are dropped once empty, so memory follows the
 * keys in flight, not every key ever seen.
 */
export class KeyLanes {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `task` after every earlier task of `key`; resolves when `task` has run. */
  run(key: string, task: () => Promise<void>): Promise<void> {
    const previous = this.#tails.get(key);
    const next = previous ? previous.then(task, task) : task();
    const tail = next.catch(() => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return next;
  }

  /** Keys with a task running or waiting. */
  get size(): number {
    return this.#tails.size;
  }
}
