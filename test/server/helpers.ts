import { request } from 'node:http';
import { pino } from 'pino';
import { connect, type Sluice } from '../../src/index.js';
import { startServer, type ServerOptions, type SluiceServer } from '../../src/server/index.js';
import { useFixture, type RedisFixture } from '../helpers/fixtures.js';
import type { RedisServer } from '../helpers/redis-server.js';
import { waitFor } from '../helpers/wait.js';

/** A server on a free port over its own connection to the test's redis-server. */
export interface TestServer {
  server: SluiceServer;
  sluice: Sluice;
  url: string;
  close(): Promise<void>;
}

export async function startTestServer(
  redis: RedisServer,
  options: Partial<Omit<ServerOptions, 'sluice'>> & { commandTimeout?: string } = {},
): Promise<TestServer> {
  const { commandTimeout, ...serverOptions } = options;
  const sluice = await connect({ url: redis.url, commandTimeout: commandTimeout ?? '10s', connectTimeout: '5s' });
  const server = await startServer({ port: 0, logger: pino({ level: 'silent' }), ...serverOptions, sluice });
  return {
    server,
    sluice,
    url: server.url,
    async close() {
      await server.close();
      await sluice.close();
    },
  };
}

/**
 * A test server over the file's redis-server, started before the file's tests and closed after
 * them, before that redis-server. Its getters throw when read before the before hooks ran.
 */
export function useTestServer(redis: RedisFixture, options: Parameters<typeof startTestServer>[1] = {}): Omit<TestServer, 'close'> {
  const app = useFixture('the test server', () => startTestServer(redis.server, options), (t) => t.close());
  return {
    get server() {
      return app.value.server;
    },
    get sluice() {
      return app.value.sluice;
    },
    get url() {
      return app.value.url;
    },
  };
}

/** An answer, its body parsed as JSON. */
export interface Reply {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test assertions read any member
  body: any;
}

/** POSTs a body (JSON by default) and reads the JSON answer. */
export async function post(url: string, body: string, headers: Record<string, string> = { 'Content-Type': 'application/json' }): Promise<Reply> {
  const response = await fetch(url, { method: 'POST', body, headers });
  return { status: response.status, headers: response.headers, body: await jsonOf(response) };
}

export async function get(url: string, init: RequestInit = {}): Promise<Reply> {
  const response = await fetch(url, init);
  return { status: response.status, headers: response.headers, body: await jsonOf(response) };
}

async function jsonOf(response: Response): Promise<unknown> {
  const text = await response.text();
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

/** Sends `request` until it is answered with `status` (within waitFor's deadline); that answer. */
export async function untilStatus(status: number, request: () => Promise<Reply>): Promise<Reply> {
  let last: Reply | undefined;
  await waitFor(
    async () => {
      last = await request();
      return last.status === status;
    },
    { message: () => `never answered ${status}; last: ${last?.status} ${JSON.stringify(last?.body)}` },
  );
  return last as Reply;
}

/** The ingest URL of a stream. */
export function eventsUrl(base: string, stream: string, query = ''): string {
  return `${base}/streams/${encodeURIComponent(stream)}/events${query}`;
}

/** The guide's order event. */
export const order = (i = 0) => ({ order_id: String(12345 + i), customer_id: '67890', amount: '99.99', status: 'pending' });

/** Its fields as XRANGE lists them. */
export const orderFields = (i = 0) => ['order_id', String(12345 + i), 'customer_id', '67890', 'amount', '99.99', 'status', 'pending'];

/**
 * A POST through node:http, for what fetch cannot do: a chunked body of unknown length, or
 * `Expect: 100-continue` with control over when the body is sent.
 */
export function rawPost(
  url: string,
  headers: Record<string, string>,
  sendBody: (req: ReturnType<typeof request>) => void,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string; continued: boolean }> {
  return new Promise((resolve, reject) => {
    let continued = false;
    const req = request(url, { method: 'POST', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body, continued }));
      res.on('error', reject);
    });
    req.on('continue', () => (continued = true));
    req.on('error', reject);
    sendBody(req);
  });
}
