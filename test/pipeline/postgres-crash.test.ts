import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { orderEvent } from '../../src/index.js';
import { pendingCount } from '../helpers/pending.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { usePostgres } from '../helpers/postgres.js';
import { useSluice } from '../helpers/sluice-fixture.js';
import { waitFor } from '../helpers/wait.js';

const redis = useSluice();
const postgres = usePostgres();

interface Child {
  exited: Promise<number | null>;
  output(): string;
  kill(): void;
}

function startPipeline(options: Record<string, unknown>): Child {
  const script = new URL('./fixtures/pg-pipeline.js', import.meta.url).pathname;
  const child = spawn(process.execPath, [script, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += String(chunk)));
  child.stderr?.on('data', (chunk) => (output += String(chunk)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { exited, output: () => output, kill: () => child.kill('SIGKILL') };
}

async function rowCount(table: string): Promise<number> {
  const [exists] = await postgres.server.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [table]);
  if (!exists?.found) return 0;
  const [row] = await postgres.server.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
  return Number(row?.n);
}

test('a pipeline killed (SIGKILL) mid-way and restarted ends with exactly one row per event in PostgreSQL', async () => {
  const TOTAL = 1000;
  const stream = redis.sluice.stream(`${uniquePrefix('pgcrash')}orders`);
  const table = 'pipeline_orders';
  const events = Array.from({ length: TOTAL }, (_, i) => orderEvent(i + 1));
  const ids = await stream.publishMany(events);
  const options = { redisUrl: redis.server.url, pgUrl: postgres.server.url, stream: stream.name, table, consumer: 'pipeline-1', delayMs: 3 };

  const first = startPipeline(options);
  try {
    await waitFor(async () => (await rowCount(table)) >= 200, { timeout: 30_000, interval: 5, message: () => `the pipeline wrote rows: ${first.output()}` });
  } finally {
    first.kill();
  }
  await first.exited;
  const atKill = await rowCount(table);
  assert.ok(atKill >= 200 && atKill < TOTAL, `killed mid-way, with ${atKill} of ${TOTAL} rows`);
  const pendingAtKill = await pendingCount(redis.sluice, stream.name, 'orders-to-postgres');
  assert.ok(pendingAtKill > 0, 'the killed pipeline left events delivered but not acknowledged');

  // The same consumer restarts: it takes back its pending events first, then goes on with the rest.
  const second = startPipeline(options);
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([second.exited, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), 60_000)))]);
  clearTimeout(timer);
  if (code === 'timeout') second.kill();
  assert.equal(code, 0, `the restarted pipeline ran until idle and exited: ${second.output()}`);
  assert.match(second.output(), /idle/);

  const [counts] = await postgres.server.query<{ rows: string; ids: string; orders: string }>(
    `SELECT count(*) AS rows, count(DISTINCT event_id) AS ids, count(DISTINCT order_id) AS orders FROM ${table}`,
  );
  assert.deepEqual(counts, { rows: String(TOTAL), ids: String(TOTAL), orders: String(TOTAL) });
  const stored = (await postgres.server.query<{ event_id: string }>(`SELECT event_id FROM ${table}`)).map((r) => r.event_id).sort();
  assert.deepEqual(stored, [...ids].sort());
  const cents = await postgres.server.query<{ amount: string; amount_cents: string | number }>(`SELECT amount, amount_cents FROM ${table} WHERE order_id IN ('1', '500', '1000')`);
  assert.equal(cents.length, 3);
  for (const row of cents) assert.equal(Number(row.amount_cents), Math.round(Number(row.amount) * 100), 'the map step ran on every row');
  assert.equal(await pendingCount(redis.sluice, stream.name, 'orders-to-postgres'), 0);
  assert.deepEqual(await stream.deadLetters().list(), [], 'nothing was dead-lettered');
});
