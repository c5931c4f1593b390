import { InvalidOptionError } from '../errors.js';

/** What one ingest request may hold. Over a limit, the request is refused whole (413), nothing stored. */
export interface IngestLimits {
  /**
   * Most bytes of a request body (as sent, before decoding). A size: bytes, or text like `512kb`,
   * `1mb`, `4MiB` (k/m/g are powers of 1024 either way).
   * @default '1MiB'
   */
  maxBody?: number | string;
  /** Most events in one request (a JSON array's items, NDJSON's lines). @default 10_000 */
  maxEvents?: number;
  /** Most fields of one event as stored (the json codec stores one, `data`). @default 256 */
  maxFields?: number;
  /**
   * Most bytes of one field value as stored (UTF-8); with the json codec, the event's JSON text.
   * @default '64KiB'
   */
  maxValue?: number | string;
}

/** The limits, checked and in bytes. */
export interface ResolvedLimits {
  maxBodyBytes: number;
  maxEvents: number;
  maxFields: number;
  maxValueBytes: number;
}

export const DEFAULT_LIMITS: Readonly<ResolvedLimits> = {
  maxBodyBytes: 1024 * 1024,
  maxEvents: 10_000,
  maxFields: 256,
  maxValueBytes: 64 * 1024,
};

/** Checks the limits when the server is built, with `option` naming where they came from. */
export function resolveLimits(limits: IngestLimits = {}, option = 'limits'): ResolvedLimits {
  if (limits === null || typeof limits !== 'object') throw new InvalidOptionError(option, limits, 'an object like { maxBody: "1mb" }');
  return {
    maxBodyBytes: limits.maxBody === undefined ? DEFAULT_LIMITS.maxBodyBytes : parseSize(limits.maxBody, `${option}.maxBody`),
    maxEvents: positive(limits.maxEvents ?? DEFAULT_LIMITS.maxEvents, `${option}.maxEvents`),
    maxFields: positive(limits.maxFields ?? DEFAULT_LIMITS.maxFields, `${option}.maxFields`),
    maxValueBytes: limits.maxValue === undefined ? DEFAULT_LIMITS.maxValueBytes : parseSize(limits.maxValue, `${option}.maxValue`),
  };
}

const SIZE_RE = /^(\d+(?:\.\d+)?)\s*(b|kb|kib|k|mb|mib|m|gb|gib|g)?$/i;
const UNIT_BYTES: Record<string, number> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** A size in bytes ≥ 1: a whole number, or text like `512kb`, `1mb`, `1.5MiB`. */
export function parseSize(value: unknown, option: string): number {
  const expected = 'a size ≥ 1 byte like 65536, 512kb, 1mb or 4MiB';
  if (typeof value === 'number') return positive(value, option, expected);
  const match = typeof value === 'string' ? SIZE_RE.exec(value.trim()) : null;
  if (!match) throw new InvalidOptionError(option, value, expected);
  const unit = (match[2] ?? 'b').toLowerCase().charAt(0);
  const bytes = Math.floor(Number(match[1]) * (UNIT_BYTES[unit] as number));
  if (!Number.isSafeInteger(bytes) || bytes < 1) throw new InvalidOptionError(option, value, expected);
  return bytes;
}

/** A size as people read it: `1 MiB`, `64 KiB`, or bytes when it is no whole number of either. */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
  }
  return `${bytes} byte${bytes === 1 ? '' : 's'}`;
}

function positive(value: unknown, option: string, expected = 'a whole number ≥ 1'): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1) throw new InvalidOptionError(option, value, expected);
  return value as number;
}
