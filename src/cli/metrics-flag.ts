import type { Metrics } from '../observe/metrics.js';
import type { MetricsEndpoint } from '../observe/metrics-endpoint.js';
import type { Sluice } from '../sluice.js';
import { note } from './output.js';

/** `--metrics-port` of `sluice consume` and `sluice run`: the parsed `[host:]port`. */
export interface MetricsAddress {
  host: string;
  port: number;
}

/**
 * Serves a consuming process's metrics on their own port, when the flag asks for it. Loaded only
 * then: prom-client need not slow down every other command's start.
 */
export async function serveMetricsFlag(
  sluice: Sluice,
  streams: readonly string[],
  address: MetricsAddress | undefined,
): Promise<{ metrics: Metrics; endpoint: MetricsEndpoint } | undefined> {
  if (address === undefined) return undefined;
  const { serveProcessMetrics } = await import('../observe/serve-process-metrics.js');
  const served = await serveProcessMetrics({ sluice, streams, ...address });
  note(`sluice: metrics at ${served.endpoint.url}/metrics`);
  return served;
}
