import { readFileSync } from 'node:fs';

/**
 * What the whole machine's CPUs did while a scenario ran, from /proc/stat (Linux): how busy they
 * were (this benchmark, and anything else running) and how much time the hypervisor gave to other
 * virtual machines (steal). Throughput and latency on a shared 2-core machine follow both, so the
 * report prints them next to the figures.
 */
export interface HostCpu {
  /** Share of all CPUs' time spent running something (user, nice, system, irq, softirq), %. */
  busyPercent: number;
  /** Share of all CPUs' time taken by the hypervisor for other machines, %. */
  stealPercent: number;
}

interface Ticks {
  busy: number;
  steal: number;
  total: number;
}

function readTicks(): Ticks | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/stat', 'utf8');
  } catch {
    return undefined; // not Linux: the report leaves the line out
  }
  const first = text.slice(0, text.indexOf('\n')).trim().split(/\s+/);
  if (first[0] !== 'cpu') return undefined;
  // cpu user nice system idle iowait irq softirq steal guest guest_nice (guest time is in user).
  const [user, nice, system, idle, iowait, irq, softirq, steal] = first.slice(1, 9).map(Number) as number[];
  const busy = (user as number) + (nice as number) + (system as number) + (irq as number) + (softirq as number);
  return { busy, steal: steal as number, total: busy + (idle as number) + (iowait as number) + (steal as number) };
}

/** Starts counting; the function returned gives the figures since then (undefined off Linux). */
export function watchHostCpu(): () => HostCpu | undefined {
  const start = readTicks();
  return () => {
    const end = readTicks();
    if (!start || !end || end.total <= start.total) return undefined;
    const total = end.total - start.total;
    return { busyPercent: (100 * (end.busy - start.busy)) / total, stealPercent: (100 * (end.steal - start.steal)) / total };
  };
}
