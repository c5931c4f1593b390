import { epochMs } from './stats.js';

export interface PacerOptions {
  /** Events per second. */
  rate: number;
  /** Epoch ms of event 0's slot; event i is due at `startAt + i * 1000 / rate`. */
  startAt: number;
  /** Stop after this many events. @default unlimited (until `stop()`) */
  total?: number;
  /**
   * Most events issued in one tick, so a stalled loop catches up over several ticks instead of
   * one long burst. @default unlimited
   */
  maxBurst?: number;
  /** Issues event `i`; `scheduledAt` is its slot (epoch ms), to measure how late it went out. */
  onEvent(i: number, scheduledAt: number): void;
}

export interface Pacer {
  /** Resolves once `total` events are issued, or after `stop()`. */
  readonly done: Promise<void>;
  readonly issued: number;
  stop(): void;
}

/**
 * Issues events at a steady rate against a fixed schedule: every tick (a 1 ms timer) issues all
 * the events whose slot has come, so a late timer shows up as events issued late (and in a
 * bigger burst), never as a lower rate. Callers compare the actual time with the slot.
 */
export function pace(options: PacerOptions): Pacer {
  const interval = 1000 / options.rate;
  const total = options.total ?? Infinity;
  const maxBurst = options.maxBurst ?? Infinity;
  let issued = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const tick = () => {
    timer = undefined;
    if (stopped) return;
    const due = Math.min(total, Math.floor((epochMs() - options.startAt) / interval) + 1);
    const until = Math.min(due, issued + maxBurst);
    while (issued < until) {
      options.onEvent(issued, options.startAt + issued * interval);
      issued++;
    }
    if (issued >= total) {
      finish();
      return;
    }
    timer = setTimeout(tick, 1);
  };
  timer = setTimeout(tick, Math.max(0, options.startAt - epochMs()));
  return {
    done,
    get issued() {
      return issued;
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      finish();
    },
  };
}
