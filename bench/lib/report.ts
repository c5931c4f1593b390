import type { ScenarioResult } from './scenario.js';

export interface Machine {
  nproc: number;
  cpu: string;
  node: string;
  redis: string;
  platform: string;
  /** 1-minute load average when the run started: other processes on the machine skew events/s. */
  loadAverage: number;
}

export interface Report {
  date: string;
  machine: Machine;
  options: { events: number; rounds: number; backlog: number };
  scenarios: ScenarioResult[];
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** The human-readable table: one row per measurement, then the scenario's ratios. */
export function formatTable(report: Report): string {
  const m = report.machine;
  const lines = [
    `Sluice benchmarks — ${report.date}`,
    `machine: ${m.nproc} CPU (${m.cpu}), Node ${m.node}, Redis ${m.redis}, ${m.platform}, load average ${m.loadAverage.toFixed(2)} at start`,
    `events per round: ${report.options.events}, measured rounds: ${report.options.rounds} (median reported); memory backlog: ${report.options.backlog}`,
    '',
  ];
  for (const s of report.scenarios) {
    const rows = s.measurements.map((x) => [
      s.scenario,
      x.name,
      fmt(x.median),
      x.cpuUsPerEvent === undefined ? '-' : x.cpuUsPerEvent.toFixed(2),
      x.rounds.map(fmt).join(' '),
      x.method,
    ]);
    const header = ['scenario', 'measurement', 'events/s (median)', 'Node CPU µs/event', 'rounds (events/s)', 'method'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
    const numeric = new Set([2, 3]);
    const line = (cells: string[]) =>
      cells
        .map((c, i) => (numeric.has(i) ? c.padStart(widths[i] as number) : i === cells.length - 1 ? c : c.padEnd(widths[i] as number)))
        .join('  ');
    lines.push(line(header), widths.map((w, i) => '-'.repeat(i === header.length - 1 ? (header[i] as string).length : w)).join('  '));
    for (const row of rows) lines.push(line(row));
    for (const x of s.measurements) {
      if (x.rss) {
        lines.push(
          `  RSS ${x.name}: ${x.rss.startMiB.toFixed(1)} MiB at start, max ${x.rss.maxMiB.toFixed(1)} MiB (+${(x.rss.maxMiB - x.rss.startMiB).toFixed(1)}) ` +
            `over ${x.rss.samples} samples every ${x.rss.everyMs} ms`,
        );
      }
    }
    for (const [name, value] of Object.entries(s.ratios)) lines.push(`  ratio ${name}: ${value.toFixed(2)}`);
    for (const check of s.checks) lines.push(`  check: ${check}`);
    lines.push('');
  }
  return lines.join('\n');
}
