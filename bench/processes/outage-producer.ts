/**
 * The producer of the producer-redis-down scenario: publishes order events at a steady rate
 * without waiting for them (open loop, like a service taking events from its own clients), while
 * the runner kills and restarts redis-server. Lines from the runner: `go`, `phase <name>` (calls
 * made from then on count in that phase), `stop`. It prints `done {phases}`: per phase, the calls
 * made and how they ended (resolved, or rejected with which error code), and how long they took.
 */
import { connect, SluiceError } from '../../src/index.js';
import { connectNodeRedis } from '../baselines/node-redis-group-worker.js';
import { pace } from '../lib/pacer.js';
import { RunnerChannel, runChild } from '../lib/runner-channel.js';
import { epochMs } from '../lib/stats.js';

export interface OutageProducerOptions {
  method: 'sluice' | 'sluice-reject' | 'node-redis';
  url: string;
  key: string;
  rate: number;
  /** After `stop`, how long to wait for the calls still outstanding. */
  settleTimeoutMs: number;
}

/** How the calls made in one phase ended: `ok`, or an error code (`ERR_TIMEOUT`…, or the error's name). */
export interface Outcome {
  count: number;
  /** Time from the call to its settling, ms. */
  maxMs: number;
  totalMs: number;
}

export interface PhaseFigures {
  calls: number;
  outcomes: Record<string, Outcome>;
  /** Most calls outstanding (made, not settled) at once while in this phase. */
  maxOutstanding: number;
  /**
   * Largest V8 heap in use seen in this phase (sampled every 250 ms from inside): live objects
   * plus garbage not yet collected. RSS, read from outside, also holds pages V8 keeps.
   */
  maxHeapUsedBytes: number;
}

export interface OutageProducerDone {
  phases: Record<string, PhaseFigures>;
  /** The first error message seen for each outcome code, to tell what the calls were told. */
  messages: Record<string, string>;
  /** Calls still outstanding when the producer gave up waiting after `stop`. */
  unsettled: number;
}

runChild(async () => {
  const channel = new RunnerChannel<OutageProducerOptions>();
  const { method, url, key, rate, settleTimeoutMs } = channel.options;
  let publish: (fields: Record<string, string>) => Promise<unknown>;
  let close: () => Promise<void>;
  if (method === 'node-redis') {
    const client = await connectNodeRedis(url);
    publish = (fields) => client.xAdd(key, '*', fields);
    close = () => client.close();
  } else {
    // The documented producer bound: publisher.maxBuffered (default 50,000) with onFull.
    const sluice = await connect({ url, publisher: { onFull: method === 'sluice-reject' ? 'reject' : 'block' } });
    const stream = sluice.stream(key);
    publish = (fields) => stream.publish(fields);
    close = () => sluice.close();
  }

  const phases: Record<string, PhaseFigures> = {};
  const messages: Record<string, string> = {};
  const newPhase = (): PhaseFigures => ({ calls: 0, outcomes: {}, maxOutstanding: outstanding, maxHeapUsedBytes: process.memoryUsage().heapUsed });
  let outstanding = 0;
  let phase: PhaseFigures = (phases.before = newPhase());
  const heapSampler = setInterval(() => {
    const used = process.memoryUsage().heapUsed;
    if (used > phase.maxHeapUsedBytes) phase.maxHeapUsedBytes = used;
  }, 250);
  let drained: () => void = () => undefined;
  const settle = (figures: PhaseFigures, outcome: string, calledAt: number) => {
    const ms = epochMs() - calledAt;
    const o = (figures.outcomes[outcome] ??= { count: 0, maxMs: 0, totalMs: 0 });
    o.count++;
    o.totalMs += ms;
    if (ms > o.maxMs) o.maxMs = ms;
    if (--outstanding === 0) drained();
  };
  const failed = (figures: PhaseFigures, error: unknown, calledAt: number) => {
    const code = error instanceof SluiceError ? error.code : error instanceof Error ? error.name : String(error);
    messages[code] ??= error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error);
    settle(figures, code, calledAt);
  };
  channel.onEvery('phase ', (name) => {
    phase = phases[name] ??= newPhase();
  });

  channel.send('ready');
  await channel.next('go');
  const pacer = pace({
    rate,
    startAt: epochMs(),
    // A stalled loop catches up over several ticks rather than in one huge burst.
    maxBurst: Math.ceil(rate / 100),
    onEvent() {
      const figures = phase;
      const calledAt = epochMs();
      figures.calls++;
      outstanding++;
      if (outstanding > figures.maxOutstanding) figures.maxOutstanding = outstanding;
      publish({ order_id: '12345', customer_id: '67890', amount: '99.99', status: 'pending' }).then(
        () => settle(figures, 'ok', calledAt),
        (error: unknown) => failed(figures, error, calledAt),
      );
    },
  });
  await channel.next('stop');
  pacer.stop();
  if (outstanding > 0) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, settleTimeoutMs);
      drained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
  clearInterval(heapSampler);
  const done: OutageProducerDone = { phases, messages, unsettled: outstanding };
  if (outstanding === 0) await close();
  channel.finish('done', done);
});
