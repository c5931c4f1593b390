import type { ClientRequest } from 'node:http';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useRedis } from '../helpers/fixtures.js';
import { cliLength, cliRange } from '../helpers/streams.js';
import { waitFor } from '../helpers/wait.js';
import { explain, lines, runCli, spawnCli, type CliProcess } from '../cli/cli.js';
import { eventsUrl, get, order, orderFields, post, rawPost } from './helpers.js';

const redis = useRedis();

/** Starts `sluice serve` and waits for the URL it prints. */
async function serve(args: string[], env: Record<string, string | undefined> = {}): Promise<{ cli: CliProcess; url: string }> {
  const cli = spawnCli(['--redis', redis.server.url, 'serve', '--port', '0', ...args], { env });
  const url = await waitFor((): string | undefined => /^listening on (http:\/\/\S+)$/m.exec(cli.stdout())?.[1], {
    message: () => `no URL printed\nstdout: ${cli.stdout()}\nstderr: ${cli.stderr()}`,
  });
  return { cli, url: url as string };
}

test('sluice serve: prints its URL (a free port with --port 0), ingests, and exits 0 on SIGTERM', async () => {
  const { cli, url } = await serve([]);
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.notEqual(url, 'http://127.0.0.1:0');
  const name = `${uniquePrefix('serve')}events:orders`;
  const reply = await post(eventsUrl(url, name), JSON.stringify(order()));
  assert.equal(reply.status, 201, JSON.stringify(reply.body));
  assert.deepEqual(await cliRange(redis.server, name), [[reply.body.ids[0], orderFields()]]);
  assert.equal((await get(`${url}/health`)).status, 200);

  cli.child.kill('SIGTERM');
  const result = await cli.exited;
  assert.equal(result.code, 0, explain(result));
  assert.deepEqual(lines(result.stdout), [`listening on ${url}`]);
});

test('the token from SLUICE_TOKEN; SIGINT exits 0 too', async () => {
  const { cli, url } = await serve([], { SLUICE_TOKEN: 'env-token-123' });
  const name = `${uniquePrefix('serve')}events:orders`;
  assert.equal((await post(eventsUrl(url, name), JSON.stringify(order()))).status, 401);
  const reply = await post(eventsUrl(url, name), JSON.stringify(order()), { 'Content-Type': 'application/json', Authorization: 'Bearer env-token-123' });
  assert.equal(reply.status, 201, JSON.stringify(reply.body));
  cli.child.kill('SIGINT');
  const result = await cli.exited;
  assert.equal(result.code, 0, explain(result));
});

test('SIGTERM with a request in flight: no new connections, the request finishes and is stored, then exit 0', async () => {
  const { cli, url } = await serve([]);
  const name = `${uniquePrefix('serve')}events:orders`;
  const body = JSON.stringify([order(0), order(1)]);
  let request!: ClientRequest;
  let resolveContinue!: () => void;
  // The server answers 100 Continue once it handles the request: from then on it is in flight.
  const continued = new Promise<void>((resolve) => (resolveContinue = resolve));
  const inFlight = rawPost(eventsUrl(url, name), { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)), Expect: '100-continue' }, (req) => {
    request = req;
    req.on('continue', () => resolveContinue());
  });
  await continued;
  cli.child.kill('SIGTERM');
  await waitFor(() => /closing: finishing 1 request in flight/.test(cli.stderr()), { message: () => `no closing note\nstderr: ${cli.stderr()}` });
  await assert.rejects(fetch(`${url}/health`), 'a new connection is refused while closing');

  // Only now does the client send its body: the request is still served, and stored.
  request.end(body);
  const reply = await inFlight;
  assert.equal(reply.status, 201, reply.body);
  assert.equal(reply.headers.connection, 'close');
  const result = await cli.exited;
  assert.equal(result.code, 0, explain(result));
  assert.equal(await cliLength(redis.server, name), 2);
});

test('--max-lag: 429 with Retry-After while a group lags past it', async () => {
  const name = `${uniquePrefix('serve')}events:orders`;
  for (let i = 0; i < 4; i++) await redis.server.cli('XADD', name, '*', 'order_id', String(i));
  await redis.server.cli('XGROUP', 'CREATE', name, 'billing', '0');
  const { cli, url } = await serve(['--max-lag', '3']);
  const reply = await post(eventsUrl(url, name), JSON.stringify(order()));
  assert.equal(reply.status, 429, JSON.stringify(reply.body));
  assert.equal(reply.headers.get('retry-after'), '1');
  assert.equal(reply.body.error.code, 'ERR_BACKPRESSURE');
  assert.equal(await cliLength(redis.server, name), 4);
  cli.child.kill('SIGTERM');
  assert.equal((await cli.exited).code, 0);
});

test('usage errors: one line, exit 2, before connecting', async () => {
  for (const [args, message] of [
    [['--port', '70000'], /^sluice: Expected `--port` to be a port number from 0 to 65535/],
    [['--max-body', 'lots'], /^sluice: Expected `--max-body` to be a size/],
    [['--token', 'has space'], /^sluice: Expected `--token` to be a non-empty token/],
    [['--max-lag-groups', 'billing'], /^sluice: Expected `--max-lag-groups` to come with `--max-lag N`/],
  ] as const) {
    const result = await runCli(['--redis', 'redis://127.0.0.1:1', 'serve', ...args]);
    assert.equal(result.code, 2, explain(result));
    assert.equal(lines(result.stderr).length, 1, explain(result));
    assert.match(result.stderr, message);
  }
});
