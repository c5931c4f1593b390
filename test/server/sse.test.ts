import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { pino } from 'pino';
import { waitFor } from '../helpers/wait.js';
import { InvalidOptionError } from '../../src/errors.js';
import { send, sendJson, type RequestContext } from '../../src/server/respond.js';
import { SseConnections, type SseStream, type SseTimingOptions } from '../../src/server/sse.js';

const silent = pino({ level: 'silent' });
/** What every stream starts with: the client's reconnect delay and a first comment. */
const PREAMBLE = 'retry: 2000\n: connected\n\n';

/** The context a route gets (see respond.ts), with what an event stream needs. */
function contextOf(req: IncomingMessage, res: ServerResponse): RequestContext {
  return {
    req,
    res,
    url: new URL(req.url ?? '/', 'http://127.0.0.1'),
    params: {},
    log: silent,
    expectContinue: false,
    json: (status, body, headers) => sendJson(res, status, body, headers),
    send: (status, body, headers) => send(res, status, body, headers),
    annotate: () => undefined,
  };
}

interface SseServer {
  readonly sse: SseConnections;
  /** The streams the server opened, in request order. */
  readonly streams: SseStream[];
  url: string;
  /** Makes the `closing` callback return true, as a server that starts closing does. */
  startClosing(): void;
  close(): Promise<void>;
}

/** A real HTTP server whose every request opens an event stream through one `SseConnections`. */
async function startSseServer(timing?: SseTimingOptions): Promise<SseServer> {
  let closing = false;
  const sse = new SseConnections(() => closing, timing);
  const streams: SseStream[] = [];
  const server = createServer((req, res) => void streams.push(sse.open(contextOf(req, res))));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    sse,
    streams,
    url: `http://127.0.0.1:${port}/events`,
    startClosing: () => (closing = true),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The first stream the server opened, once it did. */
async function firstStream(server: SseServer): Promise<SseStream> {
  await waitFor(() => server.streams.length > 0, { message: 'the server opened the stream' });
  return server.streams[0] as SseStream;
}

interface SseReader {
  readonly status: number;
  readonly contentType: string | undefined;
  /** Every byte of the body received so far, as text. */
  readonly text: string;
  /** True once the server finished the response. */
  readonly ended: boolean;
  /** Goes away, as a closed browser tab does. */
  close(): void;
}

/** Reads an event stream over a connection of its own (no agent), keeping the raw text. */
async function openReader(url: string): Promise<SseReader> {
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(url, { agent: false, headers: { Accept: 'text/event-stream' } }, resolve);
    req.once('error', reject);
    req.end();
  });
  let text = '';
  let ended = false;
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => (text += chunk));
  res.once('end', () => (ended = true));
  // A reader that goes away destroys the response; that error is its own doing.
  res.on('error', () => undefined);
  return {
    status: res.statusCode ?? 0,
    contentType: res.headers['content-type'],
    get text() {
      return text;
    },
    get ended() {
      return ended;
    },
    close: () => res.destroy(),
  };
}

test('each open stream gets a `: heartbeat` comment every heartbeatMs', async () => {
  const server = await startSseServer({ heartbeatMs: 100, tickMs: 20 });
  try {
    const reader = await openReader(server.url);
    assert.equal(reader.status, 200);
    assert.equal(reader.contentType, 'text/event-stream; charset=utf-8');
    await waitFor(() => reader.text.split(': heartbeat\n\n').length - 1 >= 2, {
      timeout: 3000,
      message: () => `two heartbeats; received ${JSON.stringify(reader.text)}`,
    });
    assert.ok(reader.text.startsWith(PREAMBLE), reader.text);
    assert.match(reader.text.slice(PREAMBLE.length), /^(: heartbeat\n\n)+$/, 'nothing but heartbeat comments');
    assert.equal(reader.ended, false, 'heartbeats keep the stream open');
    reader.close();
  } finally {
    await server.close();
  }
});

test('send(event, data) arrives framed as `event: <event>\\ndata: <data>\\n\\n`', async () => {
  // Default timing: no heartbeat for 15 s, so nothing else can come between.
  const server = await startSseServer();
  try {
    const reader = await openReader(server.url);
    const stream = await firstStream(server);
    stream.send('x', 'y');
    stream.send('entry', '{"id":"1-0"}');
    const expected = `${PREAMBLE}event: x\ndata: y\n\nevent: entry\ndata: {"id":"1-0"}\n\n`;
    await waitFor(() => reader.text.length >= expected.length, { timeout: 3000, message: () => `both events; received ${JSON.stringify(reader.text)}` });
    assert.equal(reader.text, expected);
    reader.close();
  } finally {
    await server.close();
  }
});

test('once closing() turns true, the server ends every open stream', async () => {
  const server = await startSseServer({ tickMs: 20 });
  try {
    const readers = await Promise.all([openReader(server.url), openReader(server.url)]);
    await waitFor(() => server.sse.size === 2 && readers.every((r) => r.text === PREAMBLE), { message: 'two streams open' });
    assert.ok(readers.every((r) => !r.ended), 'the streams stay open while the server is not closing');

    server.startClosing();
    await waitFor(() => readers.every((r) => r.ended), { timeout: 3000, message: () => `ended: ${readers.map((r) => r.ended).join(', ')}` });
    assert.equal(server.sse.size, 0);
    for (const stream of server.streams) {
      assert.equal(stream.signal.aborted, true, 'the route producing events is told to stop');
      await stream.done;
    }
    assert.ok(readers.every((r) => r.text === PREAMBLE), 'ended without anything more written');
  } finally {
    await server.close();
  }
});

test('a client that goes away ends its stream on the server', async () => {
  const server = await startSseServer();
  try {
    const reader = await openReader(server.url);
    const stream = await firstStream(server);
    assert.equal(server.sse.size, 1);
    reader.close();
    await waitFor(() => stream.signal.aborted, { timeout: 3000, message: 'the stream is over once its client left' });
    await stream.done;
    assert.equal(server.sse.size, 0);
    stream.send('late', 'ignored'); // a producer that has not noticed yet: no write after the end
  } finally {
    await server.close();
  }
});

test('timing options are checked when SseConnections is built', () => {
  for (const [option, value] of [['heartbeatMs', 0], ['tickMs', -5], ['tickMs', Number.NaN]] as const) {
    assert.throws(
      () => new SseConnections(() => false, { [option]: value }),
      (error: unknown) => error instanceof InvalidOptionError && error.option === option && error.code === 'ERR_INVALID_OPTION',
      `${option}: ${value}`,
    );
  }
});
