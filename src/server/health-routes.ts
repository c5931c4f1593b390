import type { Sluice } from '../sluice.js';
import { HttpError } from './http-error.js';
import type { Route } from './router.js';

export interface HealthDeps {
  sluice: Sluice;
  /** How long Redis may take to answer PING before `/ready` says 503. */
  readyTimeoutMs: number;
  /** True once the server is closing: `/ready` then says 503, so load balancers stop sending. */
  closing: () => boolean;
}

/**
 * `GET /health`: the process is alive and serving (liveness; never touches Redis, so a Redis outage
 * does not get the server restarted). `GET /ready`: Redis answers PING within the ready timeout
 * (readiness). Both are public: probes carry no token.
 */
export function healthRoutes(deps: HealthDeps): Route[] {
  return [
    {
      method: 'GET',
      path: '/health',
      public: true,
      handler: (ctx) => ctx.json(200, { status: 'ok' }),
    },
    {
      method: 'GET',
      path: '/ready',
      public: true,
      handler: async (ctx) => {
        if (deps.closing()) {
          throw new HttpError(503, 'ERR_SHUTTING_DOWN', 'The server is shutting down', { headers: { 'Retry-After': '1' } });
        }
        try {
          // No retry: a probe wants the state now, not after waiting out a reconnect.
          await deps.sluice.connection.command(['PING'], { deadline: Date.now() + deps.readyTimeoutMs, retry: false });
        } catch (error) {
          throw new HttpError(503, 'ERR_NOT_CONNECTED', `Redis did not answer PING within ${deps.readyTimeoutMs} ms`, {
            headers: { 'Retry-After': '1' },
            cause: error,
          });
        }
        ctx.json(200, { status: 'ok' });
      },
    },
  ];
}
