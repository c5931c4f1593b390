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
