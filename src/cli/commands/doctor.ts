import type { Command } from 'commander';
import { checkAlerts, DEFAULT_MAX_LENGTH, type AlertFinding } from '../../flow/alerts.js';
import type { Capabilities } from '../../index.js';
import { CAPABILITY_LABELS } from '../../redis/capabilities.js';
import type { RedisConnection } from '../../redis/connection.js';
import { AUDITED_SETTINGS, auditServer, type AuditFinding, type ServerSettings } from '../../redis/server-audit.js';
import { parseDuration } from '../../stream/time.js';
import { countFindings, renderFindings } from '../alerts.js';
import { globalOptions, withSluice } from '../context.js';
import { duration, wholeNumber } from '../options.js';
import { formatCount, keyValues, writeJson, writeLine } from '../output.js';

interface DoctorFlags {
  interval: string;
  maxLength: number;
}

/** The alert checks of every stream on the server (two snapshots `intervalMs` apart). */
export interface StreamsReport {
  /** Streams checked. */
  checked: number;
  intervalMs: number;
  maxLength: number;
  alerts: AlertFinding[];
}

/** What `sluice doctor --json` prints. */
export interface DoctorReport {
  url: string;
  version: string;
  capabilities: Omit<Capabilities, 'version'>;
  settings: ServerSettings;
  findings: AuditFinding[];
  /** Why the settings could not be read (CONFIG disabled on some managed services). */
  configError?: string;
  streams: StreamsReport;
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check the Redis server (version, native capabilities, production settings) and every stream on it (length, lag, progress, retention)')
    .option('--interval <duration>', 'time between the two snapshots of the streams (lag growing, groups making no progress)', duration('--interval', 100), '1s')
    .option('--max-length <n>', `alert when a stream holds more than N entries (default: ${formatCount(DEFAULT_MAX_LENGTH)})`, wholeNumber('--max-length', 0), DEFAULT_MAX_LENGTH)
    .addHelpText(
      'after',
      `
The exit code is 0 whatever the findings: doctor is a report. Use --json to act on it in a script.

Examples:
  $ sluice doctor
  $ sluice doctor --max-length 100000 --interval 5s
  $ sluice doctor --redis redis://redis.internal:6379 --json | jq '.findings[] | select(.status != "ok")'
  $ sluice doctor --json | jq '.streams.alerts[] | select(.severity == "fail")'`,
    )
    .action(async (flags: DoctorFlags, command: Command) => {
      const globals = globalOptions(command);
      const intervalMs = parseDuration(flags.interval, '--interval');
      await withSluice(globals, async (sluice) => {
        const { redactUrl } = await import('../../redis/connection.js');
        const { version, ...capabilities } = await sluice.capabilities();
        const streams: StreamsReport = { checked: 0, intervalMs, maxLength: flags.maxLength, alerts: [] };
        const report: DoctorReport = { url: redactUrl(sluice.url), version, capabilities, settings: {}, findings: [], streams };
        try {
          report.settings = await readSettings(sluice.connection);
          report.findings = auditServer(report.settings);
        } catch (error) {
          report.configError = (error as Error).message;
        }
        const names = await sluice.streams();
        streams.checked = names.length;
        streams.alerts = await checkAlerts(sluice.connection, names, { interval: intervalMs, thresholds: { maxLength: flags.maxLength } });
        await (globals.json ? writeJson(report) : writeLine(renderReport(report)));
      });
    });
}

/** CONFIG GET of the audited settings, one per command (Redis < 7 takes a single pattern). */
async function readSettings(conn: RedisConnection): Promise<ServerSettings> {
  const replies = await conn.pipeline(AUDITED_SETTINGS.map((name) => ['CONFIG', 'GET', name]));
  const settings: ServerSettings = {};
  for (const reply of replies) {
    if (reply instanceof Error) throw reply;
    const [name, value] = reply as [string?, string?];
    if (name !== undefined && value !== undefined) settings[name as keyof ServerSettings] = value;
  }
  return settings;
}

const STATUS: Record<AuditFinding['status'], string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' };

export function renderReport(report: DoctorReport): string {
  const lines = [keyValues([
    ['redis', report.url],
    ['version', report.version],
  ])];
  const labels = Object.entries(CAPABILITY_LABELS) as [keyof typeof CAPABILITY_LABELS, string][];
  const width = Math.max(...labels.map(([, label]) => label.length));
  lines.push('', 'Capabilities (native on this server, or done client-side by Sluice):');
  for (const [key, label] of labels) lines.push(`  ${label.padEnd(width)}  ${report.capabilities[key] ? 'native' : 'client-side fallback'}`);
  lines.push('', 'Production settings:');
  if (report.configError !== undefined) {
    lines.push(`  could not read the settings (${report.configError}); check appendonly, appendfsync, maxmemory-policy and maxmemory by hand`);
  } else {
    lines.push(...renderAudit(report.findings));
  }
  lines.push('', ...renderStreams(report.streams));
  return lines.join('\n');
}

function renderAudit(findings: readonly AuditFinding[]): string[] {
  const lines: string[] = [];
  const checkWidth = Math.max(...findings.map((f) => f.check.length));
  const indent = ' '.repeat(2 + 4 + 2 + checkWidth + 2);
  for (const finding of findings) {
    lines.push(`  ${STATUS[finding.status]}  ${finding.check.padEnd(checkWidth)}  ${finding.detail}`);
    if (finding.fix) lines.push(`${indent}fix: ${finding.fix}`);
  }
  const fails = findings.filter((f) => f.status === 'fail').length;
  const warns = findings.filter((f) => f.status === 'warn').length;
  lines.push(
    '',
    fails + warns === 0
      ? 'All checks passed.'
      : `${fails} failed, ${warns} warning${warns === 1 ? '' : 's'}: apply the fixes above before relying on this server in production.`,
  );
  return lines;
}

/** The alert findings over every stream, and a count. */
function renderStreams(streams: StreamsReport): string[] {
  const interval = streams.intervalMs < 1000 ? `${streams.intervalMs}ms` : `${Number((streams.intervalMs / 1000).toFixed(2))}s`;
  const head = `Streams (two snapshots ${interval} apart; length threshold ${formatCount(streams.maxLength)}):`;
  if (streams.checked === 0) return [head, '  no streams on this server'];
  const checked = `${formatCount(streams.checked)} stream${streams.checked === 1 ? '' : 's'} checked`;
  if (streams.alerts.length === 0) return [head, `  no alerts: ${checked}`];
  return [head, renderFindings(streams.alerts), '', `${checked}: ${countFindings(streams.alerts)}.`];
}
