import { InvalidOptionError } from '../errors.js';
import { parseDuration } from '../stream/time.js';

/**
 * Option checks shared by the sinks. Every sink checks its options when it is built, whether
 * they come from TypeScript or from a YAML pipeline, and names the option by its full path
 * (`pipelines.orders.sinks[0].table`) so a person can find it.
 */
export class OptionReader {
  readonly #options: Record<string, unknown>;
  readonly #at: string;
  readonly #what: string;

  /**
   * @param options what the caller passed
   * @param what the kind of object, for messages (`a sqlite sink`)
   * @param at where the options came from (`sinks[0]`), prefixed to every option name
   */
  constructor(options: unknown, what: string, at = '') {
    if (options === null || typeof options !== 'object' || Array.isArray(options)) {
      throw new InvalidOptionError(at || 'options', options, `the options object of ${what}`);
    }
    this.#options = options as Record<string, unknown>;
    this.#at = at;
    this.#what = what;
  }

  /** The full name of an option, for messages. */
  path(name: string): string {
    return this.#at ? `${this.#at}.${name}` : name;
  }

  /** The raw value of an option. */
  raw(name: string): unknown {
    return this.#options[name];
  }

  has(name: string): boolean {
    return this.#options[name] !== undefined;
  }

  /** Refuses options this kind of object does not have (a typo would otherwise be ignored). */
  only(known: readonly string[]): void {
    for (const name of Object.keys(this.#options)) {
      if (known.includes(name) || this.#options[name] === undefined) continue;
      const close = closest(name, known);
      const hint = close ? ` (did you mean \`${close}\`?)` : ` (${this.#what} has: ${known.join(', ')})`;
      throw new InvalidOptionError(this.path(name), this.#options[name], `absent: ${this.#what} has no such option${hint}`);
    }
  }

  string(name: string, options: { required: true; nonEmpty?: boolean }): string;
  string(name: string, options?: { required?: boolean; nonEmpty?: boolean }): string | undefined;
  string(name: string, options: { required?: boolean; nonEmpty?: boolean } = {}): string | undefined {
    const value = this.#options[name];
    if (value === undefined && !options.required) return undefined;
    if (typeof value !== 'string' || ((options.nonEmpty ?? true) && value.length === 0)) {
      throw new InvalidOptionError(this.path(name), value, 'a non-empty string');
    }
    return value;
  }

  boolean(name: string, fallback: boolean): boolean {
    const value = this.#options[name];
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') throw new InvalidOptionError(this.path(name), value, '`true` or `false`');
    return value;
  }

  integer(name: string, fallback: number, range: { min: number; max?: number }): number {
    const value = this.#options[name];
    if (value === undefined) return fallback;
    const max = range.max ?? Number.MAX_SAFE_INTEGER;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < range.min || value > max) {
      const expected = range.max === undefined ? `a whole number ≥ ${range.min}` : `a whole number from ${range.min} to ${range.max}`;
      throw new InvalidOptionError(this.path(name), value, expected);
    }
    return value;
  }

  /** A duration (`500ms`, `30s`, `1m`, or ms) as milliseconds. */
  duration(name: string, fallback: number, range: { min?: number } = {}): number {
    const value = this.#options[name];
    if (value === undefined) return fallback;
    let ms: number;
    try {
      ms = parseDuration(value, this.path(name));
    } catch {
      // InvalidOptionError (not InvalidTimeError), so a config loader finds the option by `option`.
      throw new InvalidOptionError(this.path(name), value, 'a duration like 500ms, 30s, 15m, 1h30m or 7d, or a number of milliseconds');
    }
    if (range.min !== undefined && ms < range.min) throw new InvalidOptionError(this.path(name), value, `a duration of at least ${range.min} ms`);
    return ms;
  }

  oneOf<T extends string>(name: string, values: readonly T[], fallback: T): T {
    const value = this.#options[name];
    if (value === undefined) return fallback;
    if (!values.includes(value as T)) throw new InvalidOptionError(this.path(name), value, values.map((v) => `\`${v}\``).join(' or '));
    return value as T;
  }

  /** A number option within a range. */
  number(name: string, fallback: number, range: { min: number; max: number }): number {
    const value = this.#options[name];
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !(value >= range.min && value <= range.max)) {
      throw new InvalidOptionError(this.path(name), value, `a number from ${range.min} to ${range.max}`);
    }
    return value;
  }

  /** A plain object option (`headers`, `columns`…), or undefined. */
  record(name: string, expected: string): Record<string, unknown> | undefined {
    const value = this.#options[name];
    if (value === undefined) return undefined;
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidOptionError(this.path(name), value, expected);
    return value as Record<string, unknown>;
  }

  /** A list of strings; a single string counts as a list of one. */
  stringList(name: string, expected: string): string[] | undefined {
    const value = this.#options[name];
    if (value === undefined) return undefined;
    const list = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(list) || list.some((item) => typeof item !== 'string' || item.length === 0)) {
      throw new InvalidOptionError(this.path(name), value, expected);
    }
    return list as string[];
  }
}

/** The known name nearest to a misspelt one, when it is near enough to be a typo. */
function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
    }
    previous = current;
  }
  return previous[b.length] as number;
}

/** SQL identifiers the sinks accept: letters, digits and `_`, not starting with a digit. */
export const IDENTIFIER_RE = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Checks a table name (`orders`, or `schema.orders` where the database has schemas). */
export function checkTableName(value: unknown, option: string, allowSchema: boolean): string {
  const parts = typeof value === 'string' ? value.split('.') : [];
  const ok = parts.length >= 1 && parts.length <= (allowSchema ? 2 : 1) && parts.every((p) => IDENTIFIER_RE.test(p));
  if (!ok) {
    const expected = `a table name of letters, digits and _ (not starting with a digit)${allowSchema ? ', optionally schema-qualified like analytics.orders' : ''}`;
    throw new InvalidOptionError(option, value, expected);
  }
  return value as string;
}

/** Waits `ms`, or rejects with the signal's reason once it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
