import { InvalidStreamIdError, InvalidTimeError } from '../errors.js';
import { parseTime } from './time.js';

/** The largest sequence number Redis accepts (2^64 - 1). */
export const MAX_SEQ = '18446744073709551615';

const ID_RE = /^(\d{1,20})-(\d{1,20})$/;
const MS_RE = /^\d{1,20}$/;

/** A stream ID split into its parts, kept as strings: both may exceed 2^53. */
export interface ParsedId {
  ms: string;
  seq: string;
}

/** Parses `<ms>-<seq>`; with `allowMsOnly`, also `<ms>` (seq left empty for the caller to fill). */
export function parseStreamId(value: unknown, options: { allowMsOnly?: boolean } = {}): ParsedId | undefined {
  if (typeof value !== 'string') return undefined;
  const full = ID_RE.exec(value);
  if (full) {
    const [, ms, seq] = full as unknown as [string, string, string];
    return fitsU64(ms) && fitsU64(seq) ? { ms, seq } : undefined;
  }
  if (options.allowMsOnly && MS_RE.test(value) && fitsU64(value)) return { ms: value, seq: '' };
  return undefined;
}

export function isStreamId(value: unknown): value is string {
  return parseStreamId(value) !== undefined;
}

/** Throws `InvalidStreamIdError` unless `value` is a full stream ID. */
export function assertStreamId(value: unknown, what = 'a stream ID like 1692632086370-0'): string {
  if (!isStreamId(value)) throw new InvalidStreamIdError(value, what);
  return value;
}

/** The time (epoch ms) an auto-generated ID was created at. */
export function idTime(id: string): number {
  const dash = id.indexOf('-');
  return Number(dash === -1 ? id : id.slice(0, dash));
}

/** Orders two full IDs as Redis does: by ms, then by seq, numerically. */
export function compareIds(a: string, b: string): number {
  const pa = parseStreamId(a);
  const pb = parseStreamId(b);
  if (!pa || !pb) throw new InvalidStreamIdError(pa ? b : a, 'a stream ID like 1692632086370-0');
  return compareDigits(pa.ms, pb.ms) || compareDigits(pa.seq, pb.seq);
}

/** The ID just before `id` (for exclusive bounds on servers and commands that lack `(`). */
export function previousId(id: string): string {
  const p = parseStreamId(id);
  if (!p) throw new InvalidStreamIdError(id, 'a stream ID like 1692632086370-0');
  if (p.seq !== '0') return `${p.ms}-${(BigInt(p.seq) - 1n).toString()}`;
  if (p.ms === '0') return '0-0';
  return `${(BigInt(p.ms) - 1n).toString()}-${MAX_SEQ}`;
}

/** The smallest ID at or after time `ms`. */
export function idAtTime(ms: number): string {
  return `${Math.max(0, Math.floor(ms))}-0`;
}

/**
 * A range bound for XRANGE / XREVRANGE: `-`, `+`, an ID, an ms timestamp (`1692632086370`), a Date
 * or an ISO time. Times become the first (`start`) or last (`end`) possible ID of that millisecond.
 */
export function rangeBound(value: unknown, side: 'start' | 'end', option: string): string {
  const expected = `\`${option}\` to be ${side === 'start' ? '`-`' : '`+`'}, a stream ID like 1692632086370-0, epoch milliseconds, a Date or an ISO time`;
  if (value === undefined) return side === 'start' ? '-' : '+';
  if (value === '-' || value === '+') return value;
  if (typeof value === 'string') {
    const id = parseStreamId(value, { allowMsOnly: true });
    if (id) return id.seq ? value : `${id.ms}-${side === 'start' ? '0' : MAX_SEQ}`;
  }
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) {
    return `${value}-${side === 'start' ? '0' : MAX_SEQ}`;
  }
  let ms: number;
  try {
    ms = parseTime(value, option);
  } catch (error) {
    if (error instanceof InvalidTimeError) throw new InvalidStreamIdError(value, expected);
    throw error;
  }
  return `${ms}-${side === 'start' ? '0' : MAX_SEQ}`;
}

function fitsU64(digits: string): boolean {
  return compareDigits(digits, MAX_SEQ) <= 0;
}

function compareDigits(a: string, b: string): number {
  const x = a.replace(/^0+(?=\d)/, '');
  const y = b.replace(/^0+(?=\d)/, '');
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}
