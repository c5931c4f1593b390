import type { EventEnvelope } from '../stream/event.js';

/** What a worker reports. Subscribe with `worker.on(name, listener)`. */
export interface WorkerEvents<E = EventEnvelope> {
  /** The handler succeeded; the entry is acknowledged (the XACK is batched and follows shortly). */
  processed: { event: E; deliveryCount: number; durationMs: number };
  /** One attempt failed. */
  failed: { event: E; deliveryCount: number; error: unknown };
  /** A failed entry will be delivered again after `delayMs`. */
  retrying: { event: E; deliveryCount: number; delayMs: number; error: unknown };
  /** Entries taken over from consumers that stopped (or this consumer's own, after a restart). */
  reclaimed: { ids: string[]; count: number };
  /**
   * An entry was moved to the dead-letter stream (and acknowledged, in one step). `deliveryCount`
   * is -1 when unknown: the payload vanished while pending on a consumer that stopped.
   */
  'dead-lettered': { id: string; deadLetterId: string; reason: DeadLetterReason | string; error: string; deliveryCount: number };
  /** Something went wrong outside a handler (Redis unreachable, group re-created…); the worker carries on. */
  error: { error: unknown; context: string };
  /** The group has nothing undelivered and nothing pending. */
  idle: Record<string, never>;
}

/** Why an entry was dead-lettered. */
export type DeadLetterReason =
  /** The handler failed `maxDeliveries` times. */
  | 'max-deliveries'
  /** The handler threw `NonRetryableError`. */
  | 'non-retryable'
  /** The entry was trimmed or deleted while pending: its payload is gone. */
  | 'missing'
  /** The codec could not decode the entry. */
  | 'undecodable'
  /** The entry failed the stream's schema. */
  | 'schema';

type Listener<T> = (payload: T) => void;

/**
 * A small typed emitter. Unlike Node's EventEmitter, an `error` with no listener does not throw
 * (it goes to the fallback): a worker must never be crashed by its own reporting.
 */
export class TypedEmitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<Listener<never>>>();

  constructor(private readonly fallback: <K extends keyof Events>(name: K, payload: Events[K]) => void = () => {}) {}

  on<K extends keyof Events>(name: K, listener: Listener<Events[K]>): this {
    let set = this.#listeners.get(name);
    if (!set) this.#listeners.set(name, (set = new Set()));
    set.add(listener as Listener<never>);
    return this;
  }

  off<K extends keyof Events>(name: K, listener: Listener<Events[K]>): this {
    this.#listeners.get(name)?.delete(listener as Listener<never>);
    return this;
  }

  once<K extends keyof Events>(name: K, listener: Listener<Events[K]>): this {
    const wrapper: Listener<Events[K]> = (payload) => {
      this.off(name, wrapper);
      listener(payload);
    };
    return this.on(name, wrapper);
  }

  /** True when someone listens: lets hot paths skip building a payload nobody reads. */
  has(name: keyof Events): boolean {
    return (this.#listeners.get(name)?.size ?? 0) > 0;
  }

  emit<K extends keyof Events>(name: K, payload: Events[K]): void {
    const set = this.#listeners.get(name);
    if (!set || set.size === 0) {
      this.fallback(name, payload);
      return;
    }
    for (const listener of [...set]) {
      try {
        (listener as Listener<Events[K]>)(payload);
      } catch (error) {
        // A throwing listener must not break the worker loop.
        if (name !== 'error') this.emit('error' as K, { error, context: `a listener of ${String(name)}` } as Events[K]);
      }
    }
  }
}
