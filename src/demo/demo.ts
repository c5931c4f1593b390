import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { definePipeline, runPipeline, type RunningPipeline } from '../pipeline/index.js';
import { logger } from '../observe/logger.js';
import { instrumentWorker, type Metrics } from '../observe/metrics.js';
import { sluiceHome } from '../redis/managed-server.js';
import { AnalyticsSink, type AnalyticsSinkOptions } from '../sinks/analytics.js';
import type { Sluice } from '../sluice.js';
import { OrderProducers } from './order-producers.js';
import { WebhookReceiver } from './webhook-receiver.js';

/** Options of `runDemo` (and of `sluice demo`). */
export interface DemoOptions {
  sluice: Sluice;
  /** The stream the orders go to. @default 'events:orders' */
  stream?: string;
  /** Order events to publish in all. @default 10_000 */
  events?: number;
  /** Events per second, all producers together; `0`: as fast as Redis takes them. @default 2000 */
  rate?: number;
  /** Producers publishing side by side. @default 4 */
  producers?: number;
  /**
   * Stop once every group has processed every event. Without it the pipelines keep running after
   * the last event (for the dashboard or `sluice top`) until `signal` aborts.
   * @default false
   */
  exitWhenDone?: boolean;
  /** The demo's SQLite file, recreated on each run. @default `<sluice home>/demo.db` */
  database?: string;
  /** Every n-th order has a malformed amount, which the database writer dead-letters. `0`: none. @default 1000 */
  invalidEvery?: number;
  /** The local webhook receiver answers every n-th request with a 503 (retried). `0`: never. @default 25 */
  webhookFailEvery?: number;
  /** Stops the demo early: producers stop, pipelines close gracefully, the summary still comes. */
  signal?: AbortSignal;
  /** Metrics the pipelines' workers are counted in (the dashboard's server serves them). */
  metrics?: Metrics;
}

/** What the demo did. `sluice demo --json` prints it as one line. */
export interface DemoSummary {
  /** Order events stored in the stream. */
  produced: number;
  /** Events each group finished (written downstream), by group name. */
  processed: Record<string, number>;
  /** Events moved to a dead-letter stream, all groups together. */
  deadLettered: number;
  /** Rows in the database writer's SQLite table. */
  sqliteRows: number;
  /** Successful requests the webhook receiver got. */
  webhookCalls: number;
  seconds: number;
}

/** One row of the analytics rollup: revenue and count per status per minute. */
export interface RevenueRow {
  minute: string;
  status: string;
  orders: number;
  revenue: number;
}

export const DEMO_GROUPS = { database: 'orders-db', analytics: 'orders-analytics', webhook: 'orders-webhook' } as const;

/** A running demo: counts for progress, and the final summary. */
export class Demo {
  readonly stream: string;
  readonly databasePath: string;
  readonly events: number;
  readonly #options: DemoOptions;
  // The demo prints its own progress and summary, and its dead letters are planned: pipelines log
  // only errors, unless SLUICE_LOG_LEVEL asks for more.
  readonly #log = logger.child({ component: 'demo' }, { level: process.env.SLUICE_LOG_LEVEL ?? 'error' });
  #producers: OrderProducers | undefined;
  #pipelines: RunningPipeline[] = [];

  constructor(options: DemoOptions) {
    this.#options = options;
    this.stream = options.stream ?? 'events:orders';
    this.events = options.events ?? 10_000;
    this.databasePath = options.database ?? join(sluiceHome(), 'demo.db');
  }

  /** Events published so far. */
  get produced(): number {
    return this.#producers?.produced ?? 0;
  }

  /** Events each group has finished so far. */
  processed(): Record<string, number> {
    return Object.fromEntries(this.#pipelines.map((p) => [p.group, p.stats().processed]));
  }

  deadLettered(): number {
    return this.#pipelines.reduce((sum, p) => sum + p.stats().deadLettered, 0);
  }

  /**
   * Runs the guide end to end: producers → `events:orders` (MAXLEN ~ 10000, never trimming what a
   * group still needs) → three consumer groups: a SQLite writer, a revenue rollup per status and
   * minute, and signed webhooks to a local receiver.
   */
  async run(): Promise<DemoSummary> {
    const { sluice, signal } = this.#options;
    const started = performance.now();
    const secret = randomBytes(16).toString('hex');
    const receiver = await WebhookReceiver.start({ secret, failEvery: this.#options.webhookFailEvery ?? 25 });
    try {
      this.#resetDatabase();
      const orders = sluice.stream(this.stream, { retention: { maxLen: 10_000, respectGroups: true } });
      // Each run counts its own events: the demo's groups start over just after the stream's end.
      const info = await orders.info();
      const startFrom = info.lastId ?? '0';
      await this.#dropGroups(info.groups.map((g) => g.name));
      for (const config of this.#pipelineConfigs(receiver.url, secret, startFrom)) {
        const pipeline = await runPipeline(definePipeline(config), { sluice, logger: this.#log });
        this.#pipelines.push(pipeline);
        if (this.#options.metrics) instrumentWorker(this.#options.metrics, pipeline.worker);
      }
      this.#producers = new OrderProducers({
        stream: orders,
        producers: this.#options.producers ?? 4,
        events: this.events,
        rate: this.#options.rate ?? 2000,
        invalidEvery: this.#options.invalidEvery ?? 1000,
        ...(signal ? { signal } : {}),
      });
      await this.#producers.run();
      await sluice.flush();
      if (!signal?.aborted) await this.#untilDone();
      await Promise.all(this.#pipelines.map((p) => p.close()));
      return {
        produced: this.produced,
        processed: this.processed(),
        deadLettered: this.deadLettered(),
        sqliteRows: this.#count('SELECT COUNT(*) AS n FROM orders'),
        webhookCalls: receiver.counts.calls,
        seconds: Math.round(performance.now() - started) / 1000,
      };
    } finally {
      await Promise.allSettled(this.#pipelines.map((p) => p.close()));
      await receiver.close();
    }
  }

  /** The rollup the analytics group wrote: revenue and orders per status and minute, oldest first. */
  async revenue(): Promise<RevenueRow[]> {
    const rollup = new AnalyticsSink(this.#analyticsOptions());
    try {
      return (await rollup.rows()).map((row) => ({
        minute: new Date(row.windowStart).toISOString().slice(11, 16),
        status: row.group.status ?? '',
        orders: row.count,
        revenue: Math.round((row.measures.amount?.sum ?? 0) * 100) / 100,
      }));
    } finally {
      await rollup.close();
    }
  }

  #analyticsOptions(): AnalyticsSinkOptions {
    return { database: { type: 'sqlite', path: this.databasePath }, table: 'order_stats', window: '1m', groupBy: ['status'], measures: ['amount'] };
  }

  async #untilDone(): Promise<void> {
    const { signal, exitWhenDone } = this.#options;
    const idle = Promise.all(this.#pipelines.map((p) => p.idle()));
    const aborted = new Promise<void>((resolve) => {
      if (signal?.aborted) resolve();
      signal?.addEventListener('abort', () => resolve(), { once: true });
    });
    await Promise.race([idle, aborted]);
    // Without --exit the pipelines keep running (for the dashboard) until the signal.
    if (!exitWhenDone) await aborted;
  }

  #pipelineConfigs(webhookUrl: string, secret: string, startFrom: string) {
    const source = (group: string) => ({ type: 'stream' as const, stream: this.stream, group, startFrom });
    // Short retry delays: the demo's receiver fails on purpose and should recover within the run.
    const consumer = { maxDeliveries: 5, backoff: { initial: 20, max: 500 } };
    return [
      {
        name: DEMO_GROUPS.database,
        source: source(DEMO_GROUPS.database),
        sinks: [
          {
            type: 'sqlite' as const,
            path: this.databasePath,
            table: 'orders',
            columns: {
              event_id: { from: 'id' },
              created_at: { from: 'time' },
              order_id: 'text' as const,
              customer_id: 'text' as const,
              amount: { type: 'real' as const, nullable: false },
              status: 'text' as const,
            },
            key: 'event_id',
          },
        ],
        batch: { size: 200, linger: '20ms' },
        consumer,
      },
      {
        name: DEMO_GROUPS.analytics,
        source: source(DEMO_GROUPS.analytics),
        sinks: [{ type: 'analytics' as const, ...this.#analyticsOptions() }],
        batch: { size: 200, linger: '20ms' },
        consumer,
      },
      {
        name: DEMO_GROUPS.webhook,
        source: source(DEMO_GROUPS.webhook),
        sinks: [{ type: 'webhook' as const, url: webhookUrl, secret, maxEventsPerRequest: 50, concurrency: 4, retries: 2, backoff: { initial: 20, max: 200 } }],
        batch: { size: 50, linger: '20ms' },
        consumer,
      },
    ];
  }

  /** The demo's groups start fresh each run (they are the demo's own; nothing else is touched). */
  async #dropGroups(existing: readonly string[]): Promise<void> {
    const ours: readonly string[] = Object.values(DEMO_GROUPS);
    for (const group of existing.filter((name) => ours.includes(name))) {
      await this.#options.sluice.connection.command(['XGROUP', 'DESTROY', this.stream, group]);
    }
  }

  #resetDatabase(): void {
    for (const suffix of ['', '-wal', '-shm']) rmSync(this.databasePath + suffix, { force: true });
  }

  #count(sql: string): number {
    const db = new Database(this.databasePath, { readonly: true });
    try {
      return (db.prepare(sql).get() as { n: number }).n;
    } finally {
      db.close();
    }
  }
}
