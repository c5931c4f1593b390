import { OverviewReader } from '../observe/overview.js';
import type { Logger } from '../observe/logger.js';
import type { Sluice } from '../sluice.js';
import { deadLetterRoutes } from './dead-letter-routes.js';
import { groupRoutes } from './group-routes.js';
import { OverviewFeed, type OverviewSource } from './overview-feed.js';
import { overviewRoutes } from './overview-routes.js';
import type { Route } from './router.js';
import { SseConnections } from './sse.js';
import { tailRoute } from './tail-route.js';

export interface AdminRoutesOptions {
  sluice: Sluice;
  /** True once the server is closing: open event streams are then ended. */
  closing: () => boolean;
  log: Logger;
  /** Time between two overview refreshes while a dashboard watches. @default 1000 (ms) */
  overviewIntervalMs?: number;
  /** Most live tails open at once (each holds a blocking Redis connection). @default 16 */
  maxTails?: number;
  /** Most overview streams open at once. @default 100 */
  maxWatchers?: number;
  /** Where overviews come from. @default an `OverviewReader` over every stream of `sluice` */
  source?: OverviewSource;
}

/**
 * The admin API the dashboard reads: the overview (JSON and server-sent events), the dead-letter
 * browser (list, redrive, purge) and the live tail. Every route needs the bearer token when the
 * server has one. Event streams are read with `fetch` (which can send `Authorization`), so no
 * token ever travels in a URL.
 */
export function adminRoutes(options: AdminRoutesOptions): Route[] {
  const sse = new SseConnections(options.closing);
  const intervalMs = options.overviewIntervalMs ?? 1000;
  // No cache in the reader: the feed keeps the latest overview for one interval and shares a read
  // in progress, and a reader's cache as long as the interval would make every other tick a repeat.
  const source = options.source ?? new OverviewReader({ sluice: options.sluice, ttl: 0 });
  const feed = new OverviewFeed(source, intervalMs, options.log);
  return [
    ...overviewRoutes({ feed, sse, maxWatchers: options.maxWatchers ?? 100 }),
    ...deadLetterRoutes({ sluice: options.sluice }),
    ...groupRoutes({ sluice: options.sluice }),
    tailRoute({ sluice: options.sluice, sse, maxTails: options.maxTails ?? 16 }),
  ];
}
