const INITIAL_CAPACITY = 16;
/** An empty queue keeps a ring up to this size (no churn when it comes and goes); a larger one is let go. */
const KEPT_CAPACITY = 1024;

/**
 * A first-in first-out queue with O(1) `push`, `shift` and `peek`: a ring buffer that doubles when
 * full. An array's `shift()` moves every element, which costs O(n) per call once the array holds
 * more than a few thousand (V8 then stops trimming it in place) — the publisher's queues of waiting
 * callers and held retries can hold 100,000 and more while Redis is down.
 *
 * Taken slots are cleared, so the queue keeps nothing alive that left it. Once empty, a queue that
 * grew gives its large ring back, so an outage's peak does not stay allocated.
 */
export class Fifo<T> {
  #ring: Array<T | undefined> = new Array<T | undefined>(INITIAL_CAPACITY);
  #head = 0;
  #size = 0;

  /** How many values the queue holds. */
  get length(): number {
    return this.#size;
  }

  /** Adds a value at the back. */
  push(value: T): void {
    if (this.#size === this.#ring.length) this.#grow();
    this.#ring[(this.#head + this.#size) & (this.#ring.length - 1)] = value;
    this.#size++;
  }

  /** Removes and returns the oldest value (undefined when empty). */
  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const value = this.#ring[this.#head];
    this.#ring[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#ring.length - 1);
    if (--this.#size === 0) this.#reset();
    return value;
  }

  /** The oldest value, left in place (undefined when empty). */
  peek(): T | undefined {
    return this.#size === 0 ? undefined : this.#ring[this.#head];
  }

  /** The newest value, left in place (undefined when empty). */
  peekLast(): T | undefined {
    return this.#size === 0 ? undefined : this.#ring[(this.#head + this.#size - 1) & (this.#ring.length - 1)];
  }

  /** The value at `index` from the oldest (0) to the newest (`length - 1`); undefined outside. */
  at(index: number): T | undefined {
    if (!(index >= 0 && index < this.#size)) return undefined;
    return this.#ring[(this.#head + index) & (this.#ring.length - 1)];
  }

  /** Removes every value and returns them, oldest first. */
  drain(): T[] {
    const values = new Array<T>(this.#size);
    for (let i = 0; i < values.length; i++) values[i] = this.#ring[(this.#head + i) & (this.#ring.length - 1)] as T;
    this.#size = 0;
    if (this.#ring.length <= KEPT_CAPACITY) this.#ring.fill(undefined);
    this.#reset();
    return values;
  }

  #grow(): void {
    const ring = this.#ring;
    const grown = new Array<T | undefined>(ring.length * 2);
    for (let i = 0; i < this.#size; i++) grown[i] = ring[(this.#head + i) & (ring.length - 1)];
    this.#ring = grown;
    this.#head = 0;
  }

  /** Empty: start over at the front, with a small ring again if it had grown large. */
  #reset(): void {
    this.#head = 0;
    if (this.#ring.length > KEPT_CAPACITY) this.#ring = new Array<T | undefined>(INITIAL_CAPACITY);
  }
}
