import { HttpError } from './http-error.js';
import type { OverviewFeed } from './overview-feed.js';
import type { Route } from './router.js';
import type { SseConnections } from './sse.js';

export interface OverviewRoutesDeps {
  feed: OverviewFeed;
  sse: SseConnections;
  /** Most overview streams open at once. */
  maxWatchers: number;
}

/**
 * `GET /api/overview`: streams, groups, consumers and alert findings as JSON (an `Overview`).
 * `GET /api/overview/stream`: the same as server-sent events, `event: overview` after each
 * refresh (about once a second), from one shared read whatever the number of clients; `event:
 * error` with `{"error":{code,message}}` when a refresh failed (the next one is tried all the same).
 */
export function overviewRoutes(deps: OverviewRoutesDeps): Route[] {
  let watchers = 0;
  return [
    {
      method: 'GET',
      path: '/api/overview',
      handler: async (ctx) => {
        const json = await deps.feed.current();
        ctx.send(200, `${json}\n`, { 'Content-Type': 'application/json; charset=utf-8' });
      },
    },
    {
      method: 'GET',
      path: '/api/overview/stream',
      handler: async (ctx) => {
        if (watchers >= deps.maxWatchers) {
          throw new HttpError(429, 'ERR_TOO_MANY_WATCHERS', `${deps.maxWatchers} overview streams are open on this server (the most it serves at once): close one, or try again later`, {
            headers: { 'Retry-After': '5' },
            details: { max: deps.maxWatchers },
          });
        }
        watchers++;
        const sse = deps.sse.open(ctx);
        // A client that does not keep up misses refreshes rather than having them queued: the next
        // one says everything the missed ones did.
        const unsubscribe = deps.feed.subscribe((update) => {
          if (!sse.congested) sse.send(update.kind, update.json);
        });
        try {
          await sse.done;
        } finally {
          unsubscribe();
          watchers--;
        }
      },
    },
  ];
}
