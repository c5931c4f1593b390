import type { HostCpu } from './host-cpu.js';

/** What every scenario gets from the runner. */
export interface BenchContext {
  /** The private redis-server's URL and port. */
  url: string;
  port: number;
  /** Events per measured round (`--events`). */
  events: number;
  /** Measured rounds per method (`--rounds`); the table reports their median. */
  rounds: number;
  /** Backlog drained by memory scenarios (`--backlog`). */
  backlog: number;
  /** Seconds of steady publishing measured by the latency scenario (`--duration`). */
  durationS: number;
  /** Seconds redis-server stays down in the producer-redis-down scenario (`--outage`). */
  outageS: number;
  /** Progress for a person watching (stderr, so `--json` keeps stdout clean). */
  log(message: string): void;
}

/** One way of doing the scenario's work, measured over several rounds. */
export interface Measurement {
  /** Short label: `sluice`, `baseline`, `ceiling`. */
  name: string;
  /** `subject` is what Sluice does; `baseline` what a user would hand-write; `ceiling` the server's limit. */
  role: 'subject' | 'baseline' | 'ceiling';
  /** Exactly what was run, for the table and BENCHMARKS.md. */
  method: string;
  /**
   * What `rounds` and `median` count. Throughput scenarios report events/s; the latency scenario
   * its p99 in ms, the memory ones bytes per event or MiB.
   */
  unit: 'events/s' | 'p99 ms' | 'bytes/event' | 'max RSS MiB';
  /** Every measured round, in run order. */
  rounds: number[];
  median: number;
  /**
   * CPU time of this Node process per event (µs), median of the rounds: the client's own cost,
   * steadier than events/s when other processes share the machine. Absent for out-of-process
   * methods (redis-benchmark).
   */
  cpuUsPerEvent?: number;
  /** Resident memory of the process that did the work, sampled every `everyMs` (memory scenarios). */
  rss?: RssFigures;
  /**
   * Further named figures of this measurement, printed under the table: latency percentiles,
   * per-process CPU, bytes per event by another count, outcomes of the calls…
   */
  figures?: Record<string, number>;
}

export interface RssFigures {
  /** RSS once connected, before the work started. */
  startMiB: number;
  /** Largest RSS seen while working. */
  maxMiB: number;
  everyMs: number;
  samples: number;
}

export interface ScenarioResult {
  scenario: string;
  events: number;
  measurements: Measurement[];
  /** Named ratios of medians, e.g. `sluice/baseline`. */
  ratios: Record<string, number>;
  /** Correctness checks that passed (a failed check throws instead). */
  checks: string[];
  /** The bars, each with the figure it is judged on. Missing one is reported, not an error. */
  targets?: Target[];
  /** What a reader must know to read the figures (run sizes that differ, what was left out…). */
  notes?: string[];
  /** The machine's CPUs while the scenario ran (set by the runner; Linux only). */
  host?: HostCpu;
}

export interface Target {
  /** What is judged, e.g. `sluice/node-redis`. */
  name: string;
  value: number;
  /** The bar, e.g. `≥ 1.5`. */
  bound: string;
  met: boolean;
}

/** A target from a value and a bar `≥ x` or `≤ x`. */
export function target(name: string, value: number, op: '≥' | '≤', bar: number): Target {
  return { name, value, bound: `${op} ${bar}`, met: op === '≥' ? value >= bar : value <= bar };
}

/** A benchmark scenario: one file under bench/scenarios, listed in bench/scenarios/index.ts. */
export interface Scenario {
  name: string;
  description: string;
  /** Fails with a message saying what to install when a tool the scenario needs is missing. */
  check?(): Promise<void>;
  run(ctx: BenchContext): Promise<ScenarioResult>;
}
