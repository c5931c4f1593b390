import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { connect, groupLags } from '../../src/index.js';
import { useFixture } from '../helpers/fixtures.js';
import { pendingCount } from '../helpers/pending.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { startTlsRedisServer } from '../helpers/tls-redis.js';
import { waitFor } from '../helpers/wait.js';
import type { TlsClientOptions } from './fixtures/tls-client.js';

const run = promisify(execFile);

const tls = useFixture('the TLS redis-server', startTlsRedisServer, (server) => server.close());
// The test process cannot trust the certificate (NODE_EXTRA_CA_CERTS is read at start): it checks
// the server through its plain port, while the clients under test use rediss:// only.
const plain = useFixture('a Sluice on the plain port', () => connect({ url: tls.value.server.url }), (sluice) => sluice.close());

const CLIENT = new URL('./fixtures/tls-client.js', import.meta.url).pathname;

function clientEnv(): NodeJS.ProcessEnv {
  return { ...process.env, NODE_EXTRA_CA_CERTS: tls.value.certFile };
}

interface Handled {
  id: string;
  fields: Record<string, string>;
}

test('over rediss://, a worker fetches and acknowledges on its own TLS connection: every event handled once, nothing pending, no lag', async () => {
  const total = 100;
  const stream = `${uniquePrefix('tls')}orders`;
  const group = 'tls-billing';
  const consumer = 'tls-worker';
  const tlsPort = new URL(tls.value.url).port;

  const workerOptions: TlsClientOptions = { url: tls.value.url, stream, mode: 'consume', group, consumer };
  const worker = spawn(process.execPath, [CLIENT, JSON.stringify(workerOptions)], { env: clientEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => worker.once('exit', (code) => resolve(code)));
  let stderr = '';
  worker.stderr.on('data', (chunk) => (stderr += String(chunk)));
  const handled: Handled[] = [];
  let ready = false;
  let closed = false;
  createInterface({ input: worker.stdout }).on('line', (line) => {
    if (line === 'ready') ready = true;
    else if (line === 'closed') closed = true;
    else if (line.startsWith('handled ')) handled.push(JSON.parse(line.slice('handled '.length)) as Handled);
  });
  try {
    // Published from another process at the same time: the group starts from 0, so none is missed.
    const publisherOptions: TlsClientOptions = { url: tls.value.url, stream, mode: 'publish', count: total };
    const { stdout } = await run(process.execPath, [CLIENT, JSON.stringify(publisherOptions)], { env: clientEnv() });
    const ids = JSON.parse(stdout) as string[];
    assert.equal(ids.length, total);
    assert.equal(await tls.value.server.cli('XLEN', stream), String(total));

    await waitFor(() => ready && handled.length >= total, {
      message: () => `ready: ${ready}, handled ${handled.length} of ${total}: ${stderr}`,
    });
    // The fetch connection (XREADGROUP, and XACK between reads) is the lean one, named after the
    // group and consumer, and it came in on the TLS port.
    const clients = await tls.value.server.cli('CLIENT', 'LIST');
    const fetchLine = clients.split('\n').find((line) => line.includes(` name=sluice:${group}:${consumer} `));
    assert.ok(fetchLine, `the worker's fetch connection is in CLIENT LIST:\n${clients}`);
    assert.match(fetchLine, new RegExp(` laddr=127\\.0\\.0\\.1:${tlsPort} `), 'connected to the TLS port');
    assert.match(fetchLine, / cmd=(xreadgroup|xack) /);

    worker.stdin.end(); // graceful close: in-flight work finished, acks flushed
    assert.equal(await exited, 0, stderr);
    assert.ok(closed, 'the worker closed before exiting');

    assert.equal(handled.length, total, 'each event handled once');
    const byId = new Map(handled.map((h) => [h.id, h.fields]));
    assert.deepEqual([...byId.keys()].sort(), [...ids].sort());
    ids.forEach((id, i) => assert.deepEqual(byId.get(id), { order_id: String(i), amount: `${i}.99` }, id));

    assert.equal(await pendingCount(plain.value, stream, group), 0);
    const [lag] = await groupLags(plain.value.connection, stream);
    assert.deepEqual(lag && { group: lag.group, lag: lag.lag, pending: lag.pending, lastDeliveredId: lag.lastDeliveredId }, {
      group,
      lag: 0,
      pending: 0,
      lastDeliveredId: ids[total - 1],
    });
  } finally {
    if (worker.exitCode === null && worker.signalCode === null) {
      worker.kill('SIGKILL');
      await exited;
    }
  }
});
