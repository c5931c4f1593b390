import { onStdoutClosed } from './output.js';

export interface SignalWatch {
  /** Resolves with the first SIGINT or SIGTERM. */
  readonly signal: Promise<'SIGINT' | 'SIGTERM'>;
  dispose(): void;
}

/**
 * The first Ctrl-C (or SIGTERM) starts a graceful close; a second one while closing exits at once
 * (130 or 143, as a shell reports a process killed by it). Watch from before connecting, so a
 * signal during start-up also closes gracefully.
 */
export function watchSignals(): SignalWatch {
  let received: 'SIGINT' | 'SIGTERM' | undefined;
  let resolve!: (signal: 'SIGINT' | 'SIGTERM') => void;
  const signal = new Promise<'SIGINT' | 'SIGTERM'>((r) => (resolve = r));
  const onSignal = (name: NodeJS.Signals) => {
    if (received !== undefined) process.exit(name === 'SIGINT' ? 130 : 143);
    received = name === 'SIGINT' ? 'SIGINT' : 'SIGTERM';
    resolve(received);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/**
 * Runs `work` until Ctrl-C (or SIGTERM, or stdout's reader going away) aborts its signal: a clean
 * stop, exit code 0. A second Ctrl-C while closing exits at once.
 */
export async function untilStopped(work: (signal: AbortSignal) => Promise<void>): Promise<void> {
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (stop.signal.aborted) process.exit(signal === 'SIGINT' ? 130 : 143);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const unwatch = onStdoutClosed(() => stop.abort());
  try {
    await work(stop.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    unwatch();
  }
}
