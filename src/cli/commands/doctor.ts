import type { Command } from 'commander';
import type { Capabilities } from '../../index.js';
import { CAPABILITY_LABELS } from '../../redis/capabilities.js';
import type { RedisConnection } from '../../redis/connection.js';
import { AUDITED_SETTINGS, auditServer, type AuditFinding, type ServerSettings } from '../../redis/server-audit.js';
import { globalOptions, withSluice } from '../context.js';
import { keyValues, writeJson, writeLine } from '../output.js';

/** What `sluice doctor --json` prints. */
export interface DoctorReport {
  url: string;
  version: string;
  capabilities: Omit<Capabilities, 'version'>;
  settings: ServerSettings;
  findings: AuditFinding[];
  /** Why the settings could not be read (CONFIG disabled on some managed services). */
  configError?: string;
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('check the Redis server: version, native capabilities, and production settings (persistence, eviction, memory)')
    .addHelpText(
      'after',
      `
The exit code is 0 whatever the findings: doctor is a report. Use --json to act on it in a script.

Examples:
  $ sluice doctor
  $ sluice doctor --redis redis://redis.internal:6379 --json | jq '.findings[] | select(.status != "ok")'`,
    )
    .action(async (_flags: unknown, command: Command) => {
      const globals = globalOptions(command);
      await withSluice(globals, async (sluice) => {
        const { redactUrl } = await import('../../redis/connection.js');
        const { version, ...capabilities } = await sluice.capabilities();
        const report: DoctorReport = { url: redactUrl(sluice.url), version, capabilities, settings: {}, findings: [] };
        try {
          report.settings = await readSettings(sluice.connection);
          report.findings = auditServer(report.settings);
        } catch (error) {
          report.configError = (error as Error).message;
        }
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
    return lines.join('\n');
  }
  const checkWidth = Math.max(...report.findings.map((f) => f.check.length));
  const indent = ' '.repeat(2 + 4 + 2 + checkWidth + 2);
  for (const finding of report.findings) {
    lines.push(`  ${STATUS[finding.status]}  ${finding.check.padEnd(checkWidth)}  ${finding.detail}`);
    if (finding.fix) lines.push(`${indent}fix: ${finding.fix}`);
  }
  const fails = report.findings.filter((f) => f.status === 'fail').length;
  const warns = report.findings.filter((f) => f.status === 'warn').length;
  lines.push(
    '',
    fails + warns === 0
      ? 'All checks passed.'
      : `${fails} failed, ${warns} warning${warns === 1 ? '' : 's'}: apply the fixes above before relying on this server in production.`,
  );
  return lines.join('\n');
}
