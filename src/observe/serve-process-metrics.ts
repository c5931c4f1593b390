import type { Sluice } from '../sluice.js';
import { createMetrics, instrumentProducer, instrumentWorker, type Metrics } from './metrics.js';
import { serveMetrics, type MetricsEndpoint } from './metrics-endpoint.js';
import { OverviewReader } from './overview.js';
import type { InstrumentableWorker } from './worker-metrics.js';

export interface ProcessMetricsOptions {
  sluice: Sluice;
  /** The streams this process works on: the overview reads only these from Redis. */
  streams: readonly string[];
  /** Workers to count (more can be added with `instrumentWorker(metrics, worker)`). */
  workers?: readonly InstrumentableWorker[];
  port: number;
  /** @default '127.0.0.1' */
  host?: string;
}

/**
 * Metrics of a consuming process (`sluice consume`, `sluice run`) served on their own port: its
 * workers, its producer, and its streams and groups as read from Redis (1 s cache).
 */
export async function serveProcessMetrics(options: ProcessMetricsOptions): Promise<{ metrics: Metrics; endpoint: MetricsEndpoint }> {
  const metrics = createMetrics({ overview: new OverviewReader({ sluice: options.sluice, streams: options.streams }) });
  for (const worker of options.workers ?? []) instrumentWorker(metrics, worker);
  instrumentProducer(metrics, options.sluice);
  const endpoint = await serveMetrics({ metrics, port: options.port, host: options.host ?? '127.0.0.1' });
  return { metrics, endpoint };
}
