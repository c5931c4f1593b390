import { InvalidTimeError } from '../errors.js';

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
const PART_RE = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g;
const DURATION_RE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/;

/**
 * A duration as milliseconds: a non-negative number of ms, or text like `500ms`, `30s`, `15m`,
 * `1h30m`, `7d`, `2w`. `option` names the setting in the error message.
 */
export function parseDuration(value: unknown, option = 'duration'): number {
  const expected = `\`${option}\` to be a duration like 500ms, 30s, 15m, 1h30m or 7d, or a number of milliseconds`;
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value;
    throw new InvalidTimeError(value, expected);
  }
  if (typeof value !== 'string') throw new InvalidTimeError(value, expected);
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  if (!DURATION_RE.test(text)) throw new InvalidTimeError(value, expected);
  let total = 0;
  for (const match of text.matchAll(PART_RE)) total += Number(match[1]) * (UNIT_MS[match[2] as string] as number);
  return Math.round(total);
}

/**
 * A point in time as epoch ms: a valid Date, epoch ms, or an ISO-8601 time
 * (`2026-11-25T10:00:00Z`, `2026-11-25`).
 */
export function parseTime(value: unknown, option = 'time'): number {
  const expected = `\`${option}\` to be a Date, epoch milliseconds or an ISO time like 2026-11-25T10:00:00Z`;
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms) || ms < 0) throw new InvalidTimeError(value, expected);
    return ms;
  }
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value >= 0) return value;
    throw new InvalidTimeError(value, expected);
  }
  // Date.parse accepts many loose formats ("1", "May 5"): only ISO-8601 shapes are taken.
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value.trim())) {
    const ms = Date.parse(value.trim());
    if (!Number.isNaN(ms) && ms >= 0) return ms;
  }
  throw new InvalidTimeError(value, expected);
}

/**
 * A time given as how long ago (`15m`, `1h30m`, `7d`), as epoch ms read from the clock now. The
 * duration needs a unit: a bare number, which `parseDuration` would read as milliseconds, is
 * almost surely not what `since=15` meant, so it is refused.
 */
export function parseAgo(value: unknown, option = 'since'): number {
  const expected = `\`${option}\` to be a duration with a unit, like 30s, 15m, 1h30m or 7d`;
  if (typeof value !== 'string' || /^\s*\d+(\.\d+)?\s*$/.test(value)) throw new InvalidTimeError(value, expected);
  let ms: number;
  try {
    ms = parseDuration(value, option);
  } catch {
    throw new InvalidTimeError(value, expected);
  }
  return Date.now() - ms;
}
