import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { createClient } from '@redis/client';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useRedis, useTempDir } from '../helpers/fixtures.js';
import { explain, lines, runCli, spawnCli } from '../cli/cli.js';
import { waitFor } from '../helpers/wait.js';

const redis = useRedis();
const dir = useTempDir('sluice-test-demo-');

interface Summary {
  produced: number;
  processed: Record<string, number>;
  deadLettered: number;
  sqliteRows: number;
  webhookCalls: number;
  seconds: number;
}

function lastJson(stdout: string): Summary {
  const last = lines(stdout).at(-1);
  assert.ok(last, 'no output');
  return JSON.parse(last) as Summary;
}

test('sluice demo --exit --json: every group processes every event; malformed orders are dead-lettered by the database writer only', async () => {
  const stream = `${uniquePrefix('demo')}:events:orders`;
  const database = join(dir.path, 'demo.db');
  const result = await runCli(
    ['--redis', redis.server.url, 'demo', '--stream', stream, '--database', database, '--events', '600', '--rate', '0', '--invalid-every', '100', '--webhook-fail-every', '5', '--exit', '--json'],
    { timeout: 90_000 },
  );
  assert.equal(result.code, 0, explain(result));
  const summary = lastJson(result.stdout);
  assert.deepEqual(Object.keys(summary), ['produced', 'processed', 'deadLettered', 'sqliteRows', 'webhookCalls', 'seconds']);
  assert.equal(summary.produced, 600);
  // Orders 100, 200 … 600 have amount "n/a": refused by the typed `amount` column, dead-lettered.
  assert.deepEqual(summary.processed, { 'orders-db': 594, 'orders-analytics': 600, 'orders-webhook': 600 });
  assert.equal(summary.deadLettered, 6);
  assert.equal(summary.sqliteRows, 594);
  // Batches of at most 50 events per request: at least 12 successful calls.
  assert.ok(summary.webhookCalls >= 12, `webhookCalls ${summary.webhookCalls}`);
  assert.ok(summary.seconds > 0);

  const db = new Database(database, { readonly: true });
  try {
    const orders = db.prepare('SELECT COUNT(DISTINCT order_id) AS n, SUM(amount) AS total FROM orders').get() as { n: number; total: number };
    assert.equal(orders.n, 594);
    const rollup = db.prepare('SELECT SUM(count) AS n, SUM(amount_sum) AS revenue FROM order_stats').get() as { n: number; revenue: number };
    // The rollup counts every event once (the malformed ones too, left out of the revenue only).
    assert.equal(rollup.n, 600);
    assert.ok(Math.abs(rollup.revenue - orders.total) < 0.01, `rollup revenue ${rollup.revenue} vs orders ${orders.total}`);
    const statuses = db.prepare('SELECT DISTINCT status FROM order_stats ORDER BY status').all() as Array<{ status: string }>;
    assert.ok(statuses.length >= 2, `statuses ${JSON.stringify(statuses)}`);
  } finally {
    db.close();
  }

  const client = createClient({ url: redis.server.url });
  await client.connect();
  try {
    assert.equal(await client.xLen(stream), 600);
    const dead = (await client.xRange(`{${stream}}:dlq`, '-', '+')) ?? [];
    assert.equal(dead.length, 6);
    assert.ok(dead.every((entry) => entry?.message.$dlq_group === 'orders-db'), JSON.stringify(dead[0]));
    // Each dead letter says why that order was refused, not why its batch was.
    assert.ok(
      dead.every((entry) => /^sqlite:orders refused the event: event \d+-\d+: column `amount` \(real, from `amount`\) cannot hold `n\/a`$/.test(entry?.message.$dlq_error ?? '')),
      JSON.stringify(dead[0]),
    );
  } finally {
    client.destroy();
  }
});

test('sluice demo runs again on the same stream and counts only its own events; the summary names the revenue table', async () => {
  const stream = `${uniquePrefix('demo-again')}:events:orders`;
  const database = join(dir.path, 'again.db');
  const args = ['--redis', redis.server.url, 'demo', '--stream', stream, '--database', database, '--events', '200', '--rate', '0', '--exit'];
  const first = await runCli(args, { timeout: 60_000 });
  assert.equal(first.code, 0, explain(first));
  const second = await runCli(args, { timeout: 60_000 });
  assert.equal(second.code, 0, explain(second));
  assert.match(second.stdout, /produced 200 order events/);
  assert.match(second.stdout, /orders-db\s+processed 200/);
  assert.match(second.stdout, /SQLite rows 200/);
  assert.match(second.stdout, /revenue per status per minute/);
});

test('sluice demo with no --redis starts the managed local redis-server and runs on it', async () => {
  const home = join(dir.path, 'home');
  const env = { SLUICE_REDIS_SERVER: undefined, SLUICE_HOME: home };
  try {
    const result = await runCli(['demo', '--events', '100', '--rate', '0', '--exit', '--json'], { env, timeout: 60_000 });
    assert.equal(result.code, 0, explain(result));
    const summary = lastJson(result.stdout);
    assert.equal(summary.produced, 100);
    assert.equal(summary.sqliteRows, 100);
  } finally {
    await runCli(['redis', 'stop'], { env, timeout: 30_000 });
  }
});

test('sluice demo refuses a bad --events value with a usage error', async () => {
  const result = await runCli(['--redis', redis.server.url, 'demo', '--events', 'lots']);
  assert.equal(result.code, 2, explain(result));
  assert.match(result.stderr, /--events/);
  assert.match(result.stderr, /lots/);
});

test('sluice demo --port without --exit serves the dashboard and /metrics until Ctrl-C, then prints its summary', async () => {
  const stream = `${uniquePrefix('demo-live')}:events:orders`;
  const cli = spawnCli(['--redis', redis.server.url, 'demo', '--stream', stream, '--database', join(dir.path, 'live.db'), '--events', '300', '--rate', '0', '--port', '0', '--json'], { timeout: 60_000 });
  const url = await waitFor(() => /dashboard (http:\/\/\S+)\//.exec(cli.stderr() + cli.stdout())?.[1], { timeout: 30_000, message: 'the dashboard URL' }).catch((error: unknown) => {
    cli.child.kill('SIGKILL');
    throw error;
  });
  // Every group catches up, and the demo keeps running meanwhile.
  await waitFor(
    async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      const processed = [...text.matchAll(/^sluice_worker_processed_total\{[^}]*group="(orders-[a-z]+)"[^}]*\} (\d+)/gm)].map((m) => [m[1], Number(m[2])]);
      return processed.length === 3 && processed.every(([, n]) => n === 300) ? processed : undefined;
    },
    { timeout: 30_000, message: 'every group processed in /metrics' },
  );
  // The overview is read from Redis on a short cache: wait for a read taken after the last event.
  const ours = await waitFor(
    async () => {
      const overview = (await (await fetch(`${url}/api/overview`)).json()) as { streams: Array<{ name: string; length: number; groups: Array<{ name: string }> }> };
      return overview.streams.find((s) => s.name === stream && s.length === 300);
    },
    { timeout: 10_000, message: 'the overview shows the 300 events' },
  );
  assert.equal(ours?.length, 300);
  assert.deepEqual(ours?.groups.map((g) => g.name).sort(), ['orders-analytics', 'orders-db', 'orders-webhook']);
  assert.equal(cli.child.exitCode, null, 'the demo keeps running without --exit');
  cli.child.kill('SIGINT');
  const result = await cli.exited;
  assert.equal(result.code, 0, explain(result));
  const summary = lastJson(result.stdout);
  assert.equal(summary.produced, 300);
  assert.deepEqual(summary.processed, { 'orders-db': 300, 'orders-analytics': 300, 'orders-webhook': 300 });
});
