/** What the runner gives the processes of one round: the producer (publish, end-to-end) and the worker (end-to-end). */
export interface RoundOptions {
  method: 'sluice' | 'node-redis' | 'bullmq';
  url: string;
  /** The round's stream (end-to-end: its group `bench` exists already) or the queue's name (BullMQ). */
  key: string;
  events: number;
  /** The warm-up's stream or queue: the producer fills it (end-to-end: then the worker drains it). */
  warmupKey: string;
  warmupEvents: number;
  /**
   * Rounds the producer runs, each on its own `go {key}` line (publish: one long-lived producer
   * per method, as an application is). @default 1, on a bare `go`, into `key`
   */
  rounds?: number;
}
