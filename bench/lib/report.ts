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
  options: { events: number; rounds: number; backlog: number; durationS: number; outageS: number };
  scenarios: ScenarioResult[];
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** Whole numbers with separators; small figures (latencies in ms, ratios) with 2–3 decimals. */
function fmtFigure(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 100 || Number.isInteger(n)) return fmt(n);
  return n.toFixed(Math.abs(n) < 1 ? 3 : 2);
}

/** The human-readable table: one row per measurement, then the scenario's ratios. */
export function formatTable(report: Report): string {
  const m = report.machine;
  const lines = [
    `Sluice benchmarks — ${report.date}`,
    `machine: ${m.nproc} CPU (${m.cpu}), Node ${m.node}, Redis ${m.redis}, ${m.platform}, load average ${m.loadAverage.toFixed(2)} at start`,
    `events per round: ${report.options.events}, measured rounds: ${report.options.rounds} (median reported); memory backlog: ${report.options.backlog}; ` +
      `latency: ${report.options.durationS} s; Redis outage: ${report.options.outageS} s`,
    '',
  ];
  for (const s of report.scenarios) {
    const unit = s.measurements[0]?.unit ?? 'events/s';
    const rows = s.measurements.map((x) => [
      s.scenario,
      x.name,
      fmtFigure(x.median),
      x.cpuUsPerEvent === undefined ? '-' : x.cpuUsPerEvent.toFixed(2),
      x.rounds.map(fmtFigure).join(' '),
      x.method,
    ]);
    const header = ['scenario', 'measurement', `${unit} (median)`, 'Node CPU µs/event', `rounds (${unit})`, 'method'];
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
    for (const x of s.measurements) {
      if (!x.figures) continue;
      // Five figures a line: the outage scenario has a few dozen.
      const cells = Object.entries(x.figures).map(([name, value]) => `${name} ${fmtFigure(value)}`);
      for (let i = 0; i < cells.length; i += 5) lines.push(`${i === 0 ? `  ${x.name}:` : '   '} ${cells.slice(i, i + 5).join(', ')}`);
    }
    for (const [name, value] of Object.entries(s.ratios)) lines.push(`  ratio ${name}: ${value.toFixed(2)}`);
    for (const t of s.targets ?? []) lines.push(`  target ${t.name} ${t.bound}: ${fmtFigure(t.value)} — ${t.met ? 'met' : 'NOT met'}`);
    if (s.host) {
      lines.push(
        `  host: CPUs ${s.host.busyPercent.toFixed(0)}% busy (this run and anything else), ${s.host.stealPercent.toFixed(1)}% stolen by the hypervisor for other machines, over the scenario`,
      );
    }
    for (const check of s.checks) lines.push(`  check: ${check}`);
    for (const note of s.notes ?? []) lines.push(`  note: ${note}`);
    lines.push('');
  }
  return lines.join('\n');
}
