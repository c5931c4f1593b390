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
  unit: 'events/s';
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
}

/** A benchmark scenario: one file under bench/scenarios, listed in bench/scenarios/index.ts. */
export interface Scenario {
  name: string;
  description: string;
  /** Fails with a message saying what to install when a tool the scenario needs is missing. */
  check?(): Promise<void>;
  run(ctx: BenchContext): Promise<ScenarioResult>;
}
