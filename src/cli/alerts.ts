import type { AlertFinding } from '../flow/alerts.js';
import type { HeldBack } from '../flow/retention.js';
import { formatCount, formatDuration } from './output.js';

/**
 * How `trim`, `info` and `doctor` show retention held back by a group and the alert findings of
 * `src/flow/alerts.ts`.
 */

/** The trim script counts the entries held back up to this many. */
const HELD_COUNT_LIMIT = 10_000;

/** `7 entries kept that the policy would remove, the oldest (1700000000000-0) 12.3s old`. */
export function heldBackDetail(held: HeldBack): string {
  const entries = held.entries >= HELD_COUNT_LIMIT ? `at least ${formatCount(held.entries)} entries` : `${formatCount(held.entries)} ${held.entries === 1 ? 'entry' : 'entries'}`;
  return `${entries} kept that the policy would remove, the oldest (${held.oldestNeededId}) ${formatDuration(held.ageMs)} old`;
}

/** `group billing held the trim back: 7 entries kept …`. */
export function renderHeldBack(held: HeldBack, what: string): string {
  return `group ${held.group} ${what}: ${heldBackDetail(held)}`;
}

const SEVERITY: Record<AlertFinding['severity'], string> = { warn: 'WARN', fail: 'FAIL' };

/** One line per finding, as doctor prints its checks: `  WARN  no-progress  <message>`. */
export function renderFindings(findings: readonly AlertFinding[]): string {
  const width = Math.max(0, ...findings.map((f) => f.kind.length));
  return findings.map((f) => `  ${SEVERITY[f.severity]}  ${f.kind.padEnd(width)}  ${f.message}`).join('\n');
}

/** `1 failed, 2 warnings`. */
export function countFindings(findings: readonly AlertFinding[]): string {
  const fails = findings.filter((f) => f.severity === 'fail').length;
  const warns = findings.length - fails;
  return `${fails} failed, ${warns} warning${warns === 1 ? '' : 's'}`;
}
