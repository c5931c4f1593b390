import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { InvalidOptionError, SluiceError } from '../errors.js';
import { logger as rootLogger, type Logger } from '../observe/logger.js';
import type { Sluice } from '../sluice.js';
import { parseDuration } from '../stream/time.js';
import { createMetrics, instrumentProducer, Metrics } from '../observe/metrics.js';
import { OverviewReader } from '../observe/overview.js';
import { adminRoutes } from './admin-routes.js';
import { BearerAuth } from './auth.js';
import { dashboardRoutes } from './dashboard-routes.js';
import { logLevelOf, toHttpError } from './error-status.js';
import { healthRoutes } from './health-routes.js';
import { ClientGoneError, HttpError } from './http-error.js';
import { ingestRoute } from './ingest-route.js';
import { metricsRoute } from './metrics-route.js';
import { resolveLimits, type IngestLimits, type ResolvedLimits } from './limits.js';
import { send, sendJson, type RequestContext } from './respond.js';
import { Router, type Route } from './router.js';
import { StreamCache, type ServerStreamOptions } from './stream-cache.js';

export interface ServerOptions {
  /** The connection the server publishes through. The server never closes it: its owner does. */
  sluice: Sluice;
  /** TCP port; 0 picks a free one (read it from `server.url` after `listen()`). @default 8080 */
  port?: number;
  /** Interface to listen on; `0.0.0.0` (or `::`) for every one. @default '127.0.0.1' */
  host?: string;
  /**
   * Bearer token required by every route but `/health` and `/ready`
   * (`Authorization: Bearer <token>`). Without one, the API is open to whoever can reach it.
   */
  token?: string;
  /** Limits of one ingest request (body size, events, fields, value size). */
  limits?: IngestLimits;
  /**
   * Options of every stream written through the server, e.g. producer backpressure:
   * @example { backpressure: { maxLag: 100_000, onLimit: 'reject' } }
   */
  stream?: ServerStreamOptions;
  /** How long Redis may take to answer `/ready`'s PING. @default '1s' */
  readyTimeout?: number | string;
  /** How long `close()` waits for requests in flight before cutting their connections. @default '10s' */
  shutdownTimeout?: number | string;
  /** Where request and error logs go. @default Sluice's logger (pino, stderr) */
  logger?: Logger;
  /** More routes (served with the same auth, limits and error answers). */
  routes?: Route[];
  /**
   * `GET /metrics` in the Prometheus text format (docs/metrics.md), behind the token when one is
   * set. `true`: Sluice's metrics of this server's connection (streams and groups read from Redis
   * on a 1 s cache, producer counters); a `Metrics` to serve your own (given no overview, it gets
   * one reading through `sluice`); `false`: no route.
   * @default true
   */
  metrics?: boolean | Metrics;
}

const DEFAULT_PORT = 8080;
const DEFAULT_HOST = '127.0.0.1';

/**
 * Sluice's HTTP API on node:http: ingest (`POST /streams/:stream/events`), `/health` and `/ready`.
 * Create it with `createServer` (then `listen()`) or `startServer`; `close()` stops it gracefully.
 *
 * Every error answer is JSON, `{"error":{"code":…,"message":…}}`, with the library's stable codes
 * where they exist (see `toHttpError`).
 */
export class SluiceServer {
  /** The underlying node:http server. */
  readonly http: Server;
  readonly port: number;
  readonly host: string;
  readonly limits: ResolvedLimits;
  readonly #router = new Router();
  readonly #auth: BearerAuth | undefined;
  readonly #log: Logger;
  readonly #shutdownTimeoutMs: number;
  #inFlight = 0;
  #idleWaiters: Array<() => void> = [];
  #closing: Promise<void> | undefined;
  #requests = 0;
  #detachMetrics: (() => void) | undefined;

  constructor(options: ServerOptions) {
    if (options === null || typeof options !== 'object') throw new InvalidOptionError('options', options, 'an object like { sluice, port: 8080 }');
    if (options.sluice === null || typeof options.sluice !== 'object' || typeof options.sluice.stream !== 'function') {
      throw new InvalidOptionError('sluice', options.sluice, 'a Sluice connection (from `connect()`)');
    }
    this.port = options.port ?? DEFAULT_PORT;
    if (!Number.isSafeInteger(this.port) || this.port < 0 || this.port > 65_535) throw new InvalidOptionError('port', options.port, 'a port number from 0 to 65535 (0: any free port)');
    this.host = options.host ?? DEFAULT_HOST;
    if (typeof this.host !== 'string' || this.host.trim() === '') throw new InvalidOptionError('host', options.host, 'a host name or IP address like 127.0.0.1 or 0.0.0.0');
    this.#auth = options.token === undefined ? undefined : new BearerAuth(options.token);
    this.limits = resolveLimits(options.limits);
    const readyTimeoutMs = parseDuration(options.readyTimeout ?? 1000, 'readyTimeout');
    if (readyTimeoutMs < 1) throw new InvalidOptionError('readyTimeout', options.readyTimeout, 'a duration of at least 1 ms');
    this.#shutdownTimeoutMs = parseDuration(options.shutdownTimeout ?? 10_000, 'shutdownTimeout');
    this.#log = options.logger ?? rootLogger.child({ component: 'server' });
    const streams = new StreamCache(options.sluice, options.stream ?? {});

    for (const route of healthRoutes({ sluice: options.sluice, readyTimeoutMs, closing: () => this.#closing !== undefined })) this.#router.add(route);
    this.#router.add(ingestRoute({ streams, limits: this.limits }));
    // The dashboard (static, public) and the admin API it reads (token-protected): docs/dashboard.md.
    // One reader of the streams and groups for the dashboard and /metrics, so that both together
    // read Redis at most about once a second. Its cache is a little shorter than the dashboard's
    // refresh, so each refresh gets a fresh read and scrapes in between share it.
    const overview = new OverviewReader({ sluice: options.sluice, ttl: 900 });
    const admin = adminRoutes({ sluice: options.sluice, log: this.#log, closing: () => this.#closing !== undefined, source: overview });
    for (const route of [...dashboardRoutes(), ...admin]) this.#router.add(route);
    const metrics = this.#metrics(options, overview);
    if (metrics) this.#router.add(metricsRoute(metrics));
    for (const route of options.routes ?? []) this.#router.add(route);

    // Bodies are small and their parsing is bounded by the limits; a client that sends slower than
    // this is cut off (a slow-loris guard). Publishing time does not count.
    this.http = createHttpServer({ requestTimeout: 60_000 });
    this.http.on('request', (req, res) => this.#handle(req, res, false));
    // The go-ahead (100 Continue) is sent only once the request passed auth and limit checks.
    this.http.on('checkContinue', (req, res) => this.#handle(req, res, true));
    this.http.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => this.#clientError(error, socket));
  }

  #metrics(options: ServerOptions, overview: OverviewReader): Metrics | undefined {
    const option = options.metrics ?? true;
    if (option === false) return undefined;
    if (option !== true && !(option instanceof Metrics)) throw new InvalidOptionError('metrics', option, 'true, false or Metrics (from `createMetrics()`)');
    const metrics = option === true ? createMetrics() : option;
    if (!metrics.overview) metrics.useOverview(overview);
    // Producer counters only for metrics the server made: given ones are instrumented by their owner.
    if (option === true) this.#detachMetrics = instrumentProducer(metrics, options.sluice);
    return metrics;
  }

  /** `http://host:port` once listening (the real port when `port` was 0). */
  get url(): string {
    const address = this.http.address() as AddressInfo | null;
    if (address === null || typeof address !== 'object') throw new SluiceError('ERR_NOT_LISTENING', 'The server is not listening: call listen() first');
    const host = address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  /** Requests being handled now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Starts listening; resolves to the URL. */
  listen(): Promise<string> {
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        const reason = error.code === 'EADDRINUSE' ? 'the port is in use' : error.code === 'EACCES' ? 'permission denied' : error.message;
        reject(new SluiceError('ERR_LISTEN', `Cannot listen on ${this.host}:${this.port}: ${reason}`, { cause: error }));
      };
      this.http.once('error', onError);
      this.http.listen(this.port, this.host, () => {
        this.http.off('error', onError);
        this.#log.info({ url: this.url }, 'listening');
        resolve(this.url);
      });
    });
  }

  /**
   * Stops gracefully: no new connections, idle keep-alive connections closed, requests in flight
   * finished (their publishes confirmed) and answered with `Connection: close`. After
   * `shutdownTimeout`, the connections still open are cut. Safe to call twice.
   */
  close(): Promise<void> {
    this.#detachMetrics?.();
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      if (!this.http.listening) return resolve();
      this.http.close(() => resolve());
    });
    this.http.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.#shutdownTimeoutMs);
    });
    try {
      const idle = this.#inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
      if ((await Promise.race([idle, timedOut])) === 'timeout') {
        this.#log.warn({ inFlight: this.#inFlight, timeoutMs: this.#shutdownTimeoutMs }, 'shutdown timeout: cutting the requests still in flight');
        this.http.closeAllConnections();
      }
      // Connections kept alive past their last answer.
      this.http.closeIdleConnections();
      if ((await Promise.race([closed, timedOut])) === 'timeout') this.http.closeAllConnections();
      await closed;
    } finally {
      clearTimeout(timer);
    }
    this.#log.info('closed');
  }

  /**
   * A request that is not HTTP Node can parse (or that came too slowly): answered as every other
   * error, in JSON, where Node would answer in plain text.
   */
  #clientError(error: NodeJS.ErrnoException, socket: Duplex): void {
    const sent = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage?.headersSent === true;
    if (error.code === 'ECONNRESET' || !socket.writable || sent) {
      socket.destroy();
      return;
    }
    const [status, code, reason, message] =
      error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'ERR_REQUEST_TIMEOUT', 'Request Timeout', 'The request was not received in time']
        : error.code === 'HPE_HEADER_OVERFLOW'
          ? [431, 'ERR_HEADERS_TOO_LARGE', 'Request Header Fields Too Large', 'The request headers are too large']
          : [400, 'ERR_BAD_REQUEST', 'Bad Request', 'The request is not valid HTTP'];
    this.#log.debug({ code: error.code }, `client error: ${error.message}`);
    const body = `${JSON.stringify({ error: { code, message } })}\n`;
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }

  #handle(req: IncomingMessage, res: ServerResponse, expectContinue: boolean): void {
    this.#inFlight++;
    void this.#dispatch(req, res, expectContinue).finally(() => {
      if (--this.#inFlight === 0 && this.#idleWaiters.length > 0) {
        const waiters = this.#idleWaiters;
        this.#idleWaiters = [];
        for (const wake of waiters) wake();
      }
    });
  }

  async #dispatch(req: IncomingMessage, res: ServerResponse, expectContinue: boolean): Promise<void> {
    const started = performance.now();
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?')[0] as string;
    const log = this.#log.child({ reqId: ++this.#requests, method, path });
    const annotations: Record<string, unknown> = {};
    // While closing, every answer ends its connection: keep-alive would hold the close up.
    const closeHeader = (): Record<string, string> => (this.#closing ? { Connection: 'close' } : {});
    try {
      if (this.#closing) throw new HttpError(503, 'ERR_SHUTTING_DOWN', 'The server is shutting down: try again shortly', { headers: { 'Retry-After': '1' } });
      let url: URL;
      try {
        // Concatenated, not resolved: a path like `//x` must not be read as a host name.
        const target = req.url ?? '/';
        url = target.startsWith('/') ? new URL(`http://localhost${target}`) : new URL(target);
      } catch {
        throw new HttpError(400, 'ERR_INVALID_PATH', 'The request target is not a valid URL path');
      }
      const match = this.#router.match(method, url.pathname);
      if (match.kind === 'none') throw new HttpError(404, 'ERR_NOT_FOUND', `No route for ${method} ${url.pathname}`);
      if (match.kind === 'method') {
        throw new HttpError(405, 'ERR_METHOD_NOT_ALLOWED', `${method} is not allowed on ${url.pathname}: use ${match.allow.join(' or ')}`, {
          headers: { Allow: match.allow.join(', ') },
        });
      }
      if (!match.route.public) this.#auth?.check(req.headers.authorization);
      const ctx: RequestContext = {
        req,
        res,
        url,
        params: match.params,
        log,
        expectContinue,
        json: (status, body, headers) => sendJson(res, status, body, { ...headers, ...closeHeader() }),
        send: (status, body, headers) => send(res, status, body, { ...headers, ...closeHeader() }),
        annotate: (fields) => Object.assign(annotations, fields),
      };
      await match.route.handler(ctx);
      if (!res.headersSent) throw new SluiceError('ERR_NO_ANSWER', `The route ${match.route.method} ${match.route.path} did not answer`);
    } catch (error) {
      this.#answerError(error, res, log, closeHeader(), annotations);
    } finally {
      log.debug({ status: res.statusCode, ms: Math.round((performance.now() - started) * 10) / 10, ...annotations }, 'request');
    }
  }

  #answerError(error: unknown, res: ServerResponse, log: Logger, extraHeaders: Record<string, string>, annotations: Record<string, unknown>): void {
    if (error instanceof ClientGoneError) {
      annotations.clientGone = true;
      return;
    }
    const answer = toHttpError(error);
    const level = logLevelOf(answer.status);
    if (level === 'error') log.error({ err: error }, `answered ${answer.status}: ${error instanceof Error ? error.message : String(error)}`);
    else if (level === 'warn') log.warn({ code: answer.code, err: answer.cause }, `answered ${answer.status}: ${answer.message}`);
    if (res.headersSent) {
      // Part of an answer went out already: the connection is the only way left to say it failed.
      res.destroy();
      return;
    }
    sendJson(res, answer.status, answer.toJSON(), { ...answer.headers, ...extraHeaders });
  }
}

/** A server, not yet listening: call `listen()`. */
export function createServer(options: ServerOptions): SluiceServer {
  return new SluiceServer(options);
}

/** A server, listening: `server.url` says where. */
export async function startServer(options: ServerOptions): Promise<SluiceServer> {
  const server = createServer(options);
  await server.listen();
  return server;
}
