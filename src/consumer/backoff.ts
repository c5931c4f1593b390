import { InvalidOptionError } from '../errors.js';
import { parseDuration } from '../stream/time.js';

/** Exponential backoff between deliveries of a failing entry. */
export interface BackoffOptions {
  /** Delay before the first retry. @default 100 (ms) */
  initial?: number | string;
  /** Largest delay. @default 10_000 (ms) */
  max?: number | string;
  /** Growth per retry. @default 2 */
  factor?: number;
  /**
   * Random spread, as a fraction of the delay (0.2: ±20%), so entries that failed together do
   * not all retry at the same instant.
   * @default 0.2
   */
  jitter?: number;
}

export interface Backoff {
  initialMs: number;
  maxMs: number;
  factor: number;
  jitter: number;
}

export function checkBackoff(options: BackoffOptions | number | undefined): Backoff {
  if (typeof options === 'number') options = { initial: options };
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new InvalidOptionError('backoff', options, 'an object like { initial: 100, max: 10000, factor: 2, jitter: 0.2 } or a number of ms');
  }
  const initialMs = parseDuration(options?.initial ?? 100, 'backoff.initial');
  const maxMs = parseDuration(options?.max ?? Math.max(10_000, initialMs), 'backoff.max');
  const factor = options?.factor ?? 2;
  const jitter = options?.jitter ?? 0.2;
  if (maxMs < initialMs) throw new InvalidOptionError('backoff.max', options?.max, `at least backoff.initial (${initialMs} ms)`);
  if (typeof factor !== 'number' || !(factor >= 1)) throw new InvalidOptionError('backoff.factor', factor, 'a number ≥ 1');
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1)) throw new InvalidOptionError('backoff.jitter', jitter, 'a number from 0 to 1');
  return { initialMs, maxMs, factor, jitter };
}

/** The delay before the retry that follows delivery number `deliveries` (1 = the first). */
export function backoffDelay(backoff: Backoff, deliveries: number, random = Math.random): number {
  const base = Math.min(backoff.maxMs, backoff.initialMs * backoff.factor ** Math.max(0, deliveries - 1));
  const spread = base * backoff.jitter * (random() * 2 - 1);
  return Math.max(0, Math.round(Math.min(backoff.maxMs, base + spread)));
}
