type Listener<T> = (payload: T) => void;

/**
 * A small typed emitter (a worker's events, a connection's producer events). Unlike Node's
 * EventEmitter, an `error` with no listener does not throw (it goes to the fallback), and a
 * listener that throws is reported as `error` rather than breaking the emitter's caller: a worker
 * or a publisher must never be crashed by its own reporting.
 */
export class TypedEmitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<Listener<never>>>();
  /** Listeners that only count or measure (`watch`): they get every event, and take none over. */
  readonly #watchers = new Map<keyof Events, Set<Listener<never>>>();

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

  /**
   * Like `on`, for a listener that only counts or measures (a metrics exporter): it gets every
   * event, but the event still counts as unheard (`taken` is false, the fallback runs), so what
   * the owner does for unheard events — logging them — goes on as without it.
   */
  watch<K extends keyof Events>(name: K, listener: Listener<Events[K]>): this {
    let set = this.#watchers.get(name);
    if (!set) this.#watchers.set(name, (set = new Set()));
    set.add(listener as Listener<never>);
    return this;
  }

  unwatch<K extends keyof Events>(name: K, listener: Listener<Events[K]>): this {
    this.#watchers.get(name)?.delete(listener as Listener<never>);
    return this;
  }

  /** True when someone listens or watches: lets hot paths skip building a payload nobody reads. */
  has(name: keyof Events): boolean {
    return (this.#listeners.get(name)?.size ?? 0) > 0 || (this.#watchers.get(name)?.size ?? 0) > 0;
  }

  /** True when a listener (`on`, not `watch`) takes the event over: its owner need not report it too. */
  taken(name: keyof Events): boolean {
    return (this.#listeners.get(name)?.size ?? 0) > 0;
  }

  emit<K extends keyof Events>(name: K, payload: Events[K]): void {
    const watchers = this.#watchers.get(name);
    if (watchers && watchers.size > 0) this.#call(name, watchers, payload);
    const set = this.#listeners.get(name);
    if (!set || set.size === 0) {
      this.fallback(name, payload);
      return;
    }
    this.#call(name, set, payload);
  }

  #call<K extends keyof Events>(name: K, set: Set<Listener<never>>, payload: Events[K]): void {
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
