/** One call of an open loop: when it was made, and how it ended. */
export interface LoopCall {
  n: number;
  calledAt: number;
  /** ms from the call to its end; undefined while outstanding. */
  tookMs: number | undefined;
  id: string | undefined;
  error: unknown;
}

/**
 * Publishes without waiting for the previous calls (a service taking events from its own clients),
 * recording how each call ended and the most calls outstanding at once. That count is read between
 * rounds, once the event loop has run the handlers of the calls refused at once: it is then exactly
 * what the publisher holds (buffered and waiting).
 */
export class OpenLoop {
  readonly calls: LoopCall[] = [];
  mostOutstanding = 0;
  #outstanding = 0;
  readonly #all: Array<Promise<void>> = [];
  #stopped = false;
  #running: Promise<void> | undefined;

  constructor(private readonly publish: (n: number) => Promise<string>) {}

  get outstanding(): number {
    return this.#outstanding;
  }

  /** Makes `count` calls now, in one go. */
  burst(count: number): void {
    for (let i = 0; i < count; i++) {
      const call: LoopCall = { n: this.calls.length, calledAt: Date.now(), tookMs: undefined, id: undefined, error: undefined };
      this.calls.push(call);
      this.#outstanding++;
      const done = (): void => {
        call.tookMs = Date.now() - call.calledAt;
        this.#outstanding--;
      };
      this.#all.push(
        this.publish(call.n).then(
          (id) => {
            call.id = id;
            done();
          },
          (error: unknown) => {
            call.error = error;
            done();
          },
        ),
      );
    }
  }

  /** Reads the outstanding count (call it between rounds). */
  sample(): void {
    if (this.#outstanding > this.mostOutstanding) this.mostOutstanding = this.#outstanding;
  }

  /** `perRound` calls every `everyMs` ms, in the background, until `stop()`. */
  start(perRound: number, everyMs: number): void {
    this.#running = (async () => {
      // Calls made just before (a burst) are counted once their refusals were seen.
      await new Promise((resolve) => setImmediate(resolve));
      while (!this.#stopped) {
        this.sample();
        this.burst(perRound);
        await new Promise((resolve) => setTimeout(resolve, everyMs));
      }
      this.sample();
    })();
  }

  /** Stops the rounds; resolves once every call made has ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
    await Promise.all(this.#all);
  }

  /** The calls that ended with `kind` (an error class), or resolved (`'stored'`). */
  ended(kind: 'stored' | (abstract new (...args: never[]) => Error)): LoopCall[] {
    if (kind === 'stored') return this.calls.filter((c) => c.id !== undefined);
    return this.calls.filter((c) => c.error instanceof kind);
  }
}
