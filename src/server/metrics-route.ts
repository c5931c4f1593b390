import type { Metrics } from '../observe/metrics.js';
import type { Route } from './router.js';

/**
 * `GET /metrics`: Sluice's metrics in the Prometheus text format. Not public: when the server has
 * a token, Prometheus sends it (`authorization: { credentials: <token> }` in its scrape config).
 * Stream and group figures come from the metrics' overview reader, whose cache bounds the reads
 * of Redis however often it is scraped.
 */
export function metricsRoute(metrics: Metrics): Route {
  return {
    method: 'GET',
    path: '/metrics',
    handler: async (ctx) => {
      const text = await metrics.render();
      ctx.send(200, text, { 'Content-Type': metrics.contentType });
    },
  };
}
