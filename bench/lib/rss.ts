import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const MiB = 1024 * 1024;

/** A process's resident set size in bytes: /proc on Linux, `ps` elsewhere. */
export async function rssOf(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
    if (kb) return Number(kb) * 1024;
  } catch {
    // not Linux: ask ps
  }
  const { stdout } = await run('ps', ['-o', 'rss=', '-p', String(pid)]);
  return Number(stdout.trim()) * 1024;
}

/** One RSS reading, with the phase the process was in when it was taken. */
export interface RssReading {
  /** Epoch ms. */
  at: number;
  bytes: number;
  phase: string;
}

/**
 * Reads another process's RSS every `everyMs` from the outside (so a busy event loop in that
 * process cannot skip samples), tagging each reading with the current phase.
 */
export class RssSampler {
  readonly readings: RssReading[] = [];
  phase = 'start';
  readonly #timer: NodeJS.Timeout;

  constructor(
    readonly pid: number,
    readonly everyMs: number,
  ) {
    this.#timer = setInterval(() => {
      const phase = this.phase;
      rssOf(pid).then(
        (bytes) => this.readings.push({ at: Date.now(), bytes, phase }),
        () => undefined, // the process just exited
      );
    }, everyMs);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** The readings taken in one phase. */
  of(phase: string): number[] {
    return this.readings.filter((r) => r.phase === phase).map((r) => r.bytes);
  }
}
