import { Queue, Worker, type ConnectionOptions, type JobsOptions } from 'bullmq';
import { createRequire } from 'node:module';
import { measure, type Sample } from '../lib/stats.js';

/** The installed BullMQ's version, for the method text. */
export const BULLMQ_VERSION = (createRequire(import.meta.url)('bullmq/package.json') as { version: string }).version;

export const BULLMQ_BATCH = 1000;
export const BULLMQ_IN_FLIGHT = 4;
export const BULLMQ_CONCURRENCY = 100;

/**
 * At-least-once with retries and dead letters, as the Sluice worker's defaults: 5 attempts with
 * exponential backoff from 100 ms; a job out of attempts stays in the failed set (BullMQ's dead
 * letters). Completed jobs are kept (BullMQ's default), as a stream keeps its entries.
 */
export const BULLMQ_JOB_OPTIONS: JobsOptions = { attempts: 5, backoff: { type: 'exponential', delay: 100 } };

/** BullMQ's ioredis connection to the URL's host and port (workers need `maxRetriesPerRequest: null`). */
export function bullmqConnection(url: string): ConnectionOptions {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port || 6379), maxRetriesPerRequest: null };
}

/**
 * What a BullMQ user writes to enqueue fast: `queue.addBulk()` of 1000 jobs (the order event as
 * the job's data), 4 such calls in flight. Timed from the first call; `queue` is already open.
 */
export async function bullmqAddBulk(queue: Queue, events: number): Promise<Sample> {
  await queue.waitUntilReady();
  let next = 0;
  const caller = async () => {
    while (next < events) {
      const count = Math.min(BULLMQ_BATCH, events - next);
      next += count;
      const jobs = [];
      for (let i = 0; i < count; i++) {
        jobs.push({ name: 'order', data: { order_id: '12345', customer_id: '67890', amount: '99.99', status: 'pending' }, opts: BULLMQ_JOB_OPTIONS });
      }
      await queue.addBulk(jobs);
    }
  };
  return measure(async () => {
    await Promise.all(Array.from({ length: BULLMQ_IN_FLIGHT }, caller));
  });
}

/**
 * A BullMQ `Worker` with a no-op processor and `concurrency: 100`; `onCompleted` runs for every
 * job BullMQ reports completed (moved to the completed set: its "ack").
 */
export async function startBullmqWorker(options: { url: string; queue: string; onCompleted: () => void }): Promise<Worker> {
  const worker = new Worker(options.queue, async () => undefined, { connection: bullmqConnection(options.url), concurrency: BULLMQ_CONCURRENCY });
  worker.on('completed', options.onCompleted);
  // Reported, not thrown: a failing connection shows up as a round that never completes.
  worker.on('error', (error) => console.error(`bullmq worker: ${error.message}`));
  await worker.waitUntilReady();
  return worker;
}

/**
 * Throws unless every job of the queue completed: `events` completed, none waiting, active,
 * delayed or failed. Then removes the queue's keys.
 */
export async function expectBullmqDone(url: string, name: string, events: number): Promise<void> {
  const queue = new Queue(name, { connection: bullmqConnection(url) });
  try {
    const counts = await queue.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
    const wrong = Object.entries(counts).filter(([type, n]) => (type === 'completed' ? n !== events : n !== 0));
    if (wrong.length) throw new Error(`bullmq: after ${events} jobs the queue ${name} has ${wrong.map(([type, n]) => `${n} ${type}`).join(', ')}`);
    await queue.obliterate({ force: true });
  } finally {
    await queue.close();
  }
}

export const BULLMQ_PRODUCER_METHOD = `BullMQ ${BULLMQ_VERSION}: queue.addBulk() of ${BULLMQ_BATCH} jobs, ${BULLMQ_IN_FLIGHT} calls in flight (attempts 5, exponential backoff 100 ms)`;
export const BULLMQ_WORKER_METHOD = `new Worker(queue, async () => {}, { concurrency: ${BULLMQ_CONCURRENCY} }), counting 'completed'`;
