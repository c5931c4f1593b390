import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvalidOptionError, SluiceError } from '../errors.js';
import type { Metrics } from './metrics.js';

export interface MetricsEndpointOptions {
  metrics: Metrics;
  /** TCP port; 0 picks a free one (read `endpoint.url`). */
  port: number;
  /**
   * Interface to listen on. Loopback by default: metrics tell about the pipeline, so exposing them
   * is a choice (`0.0.0.0` for a Prometheus on another machine).
   * @default '127.0.0.1'
   */
  host?: string;
}

/** A listening metrics endpoint: `GET /metrics`, nothing else. */
export interface MetricsEndpoint {
  /** `http://host:port`. */
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

/**
 * A tiny HTTP listener that serves `GET /metrics` (and `HEAD`), for processes that are not the
 * HTTP server: `sluice consume --metrics-port`, `sluice run`. Any other path is a 404, any other
 * method a 405; a failed scrape a 500 with the reason.
 *
 * @example
 * const endpoint = await serveMetrics({ metrics, port: 9464 });
 */
export async function serveMetrics(options: MetricsEndpointOptions): Promise<MetricsEndpoint> {
  if (options === null || typeof options !== 'object') throw new InvalidOptionError('options', options, 'an object like { metrics, port: 9464 }');
  const { metrics, port } = options;
  const host = options.host ?? '127.0.0.1';
  if (metrics === null || typeof metrics !== 'object' || typeof metrics.render !== 'function') {
    throw new InvalidOptionError('metrics', metrics, 'Metrics (from `createMetrics()`)');
  }
  if (!Number.isSafeInteger(port) || port < 0 || port > 65_535) throw new InvalidOptionError('port', port, 'a port number from 0 to 65535 (0: any free port)');
  if (typeof host !== 'string' || host.trim() === '') throw new InvalidOptionError('host', options.host, 'a host name or IP address like 127.0.0.1 or 0.0.0.0');

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const answer = (status: number, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Length': String(Buffer.byteLength(body)), ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (path !== '/metrics') return answer(404, 'Not found: metrics are at /metrics\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return answer(405, 'Method not allowed: use GET\n', { Allow: 'GET, HEAD' });
    metrics.render().then(
      (text) => answer(200, text, { 'Content-Type': metrics.contentType }),
      (error: unknown) => answer(500, `Cannot render the metrics: ${error instanceof Error ? error.message : String(error)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const reason = error.code === 'EADDRINUSE' ? 'the port is in use' : error.code === 'EACCES' ? 'permission denied' : error.message;
      reject(new SluiceError('ERR_LISTEN', `Cannot serve metrics on ${host}:${port}: ${reason}`, { cause: error }));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * A `--metrics-port` value: `9464`, `0.0.0.0:9464` or `[::1]:9464` (host defaults to loopback).
 * Throws InvalidOptionError naming `option`.
 */
export function parseListenAddress(value: string, option = '--metrics-port'): { host: string; port: number } {
  const match = /^(?:(\[[^\]]+\]|[^:[\]]+):)?(\d{1,5})$/.exec(String(value).trim());
  const port = match ? Number(match[2]) : Number.NaN;
  if (!match || port > 65_535) throw new InvalidOptionError(option, value, 'a port like 9464, or host:port like 0.0.0.0:9464');
  const host = match[1] === undefined ? '127.0.0.1' : match[1].replace(/^\[(.*)\]$/, '$1');
  return { host, port };
}
