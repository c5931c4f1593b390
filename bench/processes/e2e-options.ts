/** What the runner gives both processes of one end-to-end round, the producer and the worker. */
export interface E2eOptions {
  method: 'sluice' | 'node-redis' | 'bullmq';
  url: string;
  /** The round's stream (its group `bench` exists already) or the queue's name (BullMQ). */
  key: string;
  events: number;
  /** The warm-up's stream or queue: the producer fills it, then the worker drains it. */
  warmupKey: string;
  warmupEvents: number;
}
