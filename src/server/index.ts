/**
 * The HTTP server: `startServer({ sluice, port, token })` serves ingest, health and readiness on
 * node:http. See docs/server.md for the routes, limits and status codes.
 */
export { createServer, startServer, SluiceServer, type ServerOptions } from './server.js';
export { HttpError } from './http-error.js';
export { DEFAULT_LIMITS, type IngestLimits } from './limits.js';
export type { Route, RouteHandler, HttpMethod } from './router.js';
export type { RequestContext } from './respond.js';
export type { ServerStreamOptions } from './stream-cache.js';
