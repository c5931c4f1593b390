/**
 * Lines from the other side of a parent/child pipe, handed to whoever waits for their prefix
 * (`ready`, `go`, `done {json}`…). A line that comes before anyone waits for it is kept, so none
 * is missed whatever the order.
 */
export class LineWaiters {
  readonly #unclaimed: string[] = [];
  readonly #waiters: Array<{ prefix: string; resolve: (rest: string) => void; reject: (error: Error) => void }> = [];

  /** A line arrived. */
  feed(line: string): void {
    const index = this.#waiters.findIndex((w) => line.startsWith(w.prefix));
    if (index < 0) {
      this.#unclaimed.push(line);
      return;
    }
    const [waiter] = this.#waiters.splice(index, 1);
    waiter?.resolve(line.slice(waiter.prefix.length));
  }

  /** The rest of the next line starting with `prefix`, already here or still to come. */
  next(prefix: string): Promise<string> {
    const index = this.#unclaimed.findIndex((line) => line.startsWith(prefix));
    if (index >= 0) return Promise.resolve((this.#unclaimed.splice(index, 1)[0] as string).slice(prefix.length));
    return new Promise((resolve, reject) => this.#waiters.push({ prefix, resolve, reject }));
  }

  /** Fails every wait still open (the other side is gone), each with its own error. */
  failAll(error: (prefix: string) => Error): void {
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error(waiter.prefix));
  }
}
