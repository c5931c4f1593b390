import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { PostgresSink } from '../../src/index.js';
import { pendingCount } from '../helpers/pending.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { usePostgres } from '../helpers/postgres.js';
import { useSluice } from '../helpers/sluice-fixture.js';
import { waitFor } from '../helpers/wait.js';

const redis = useSluice();
const postgres = usePostgres();

test('a worker killed (SIGKILL) mid-way: after another consumer takes over, PostgreSQL holds exactly one row per event', async () => {
  const TOTAL = 300;
  const stream = redis.sluice.stream(`${uniquePrefix('crash')}orders`);
  const table = 'orders_crash';
  const group = 'db-writer';
  const ids = await stream.publishMany(Array.from({ length: TOTAL }, (_, i) => ({ order_id: String(i), amount: `${i}.99` })));

  const script = new URL('./fixtures/pg-writer.js', import.meta.url).pathname;
  const options = { redisUrl: redis.server.url, pgUrl: postgres.server.url, stream: stream.name, group, table, hangAfter: 100 };
  const child = spawn(process.execPath, [script, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr += String(chunk)));
  const storedByChild = new Set<string>();
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    if (line.startsWith('stored ')) storedByChild.add(line.slice('stored '.length));
  });
  try {
    await waitFor(() => storedByChild.size >= 100, { timeout: 20_000, message: () => `the worker stored ${storedByChild.size} events: ${stderr}` });
    assert.ok((await pendingCount(redis.sluice, stream.name, group)) > 0, 'the worker holds events it stored but has not acknowledged');
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  const [atKill] = await postgres.server.query<{ rows: string }>(`SELECT count(*) AS rows FROM ${table}`);
  assert.ok(Number(atKill?.rows) >= 100 && Number(atKill?.rows) < TOTAL, `killed mid-way, with ${atKill?.rows} of ${TOTAL} rows`);

  // Another consumer of the group reclaims what the dead one held and goes on with the rest.
  const sink = new PostgresSink({ connectionString: postgres.server.url, table, columns: { event_id: { from: 'id' }, order_id: 'text', amount: 'numeric' } });
  const rewritten: string[] = [];
  const survivor = stream.consume({ group, consumer: 'survivor', concurrency: 8, claimIdle: 200, block: 50 }, async (event, ctx) => {
    await sink.write([event], { signal: ctx.signal });
    if (storedByChild.has(event.id)) rewritten.push(event.id);
  });
  const failures: unknown[] = [];
  survivor.on('failed', ({ error }) => failures.push(error));
  survivor.on('dead-lettered', (payload) => failures.push(payload));
  try {
    await waitFor(async () => {
      const [row] = await postgres.server.query<{ rows: string }>(`SELECT count(*) AS rows FROM ${table}`);
      return Number(row?.rows) === TOTAL;
    }, { timeout: 20_000, message: 'every event reached the table' });
    await survivor.idle();
  } finally {
    await survivor.close();
    await sink.close();
  }
  const [counts] = await postgres.server.query<{ rows: string; distinct_ids: string; distinct_orders: string }>(
    `SELECT count(*) AS rows, count(DISTINCT event_id) AS distinct_ids, count(DISTINCT order_id) AS distinct_orders FROM ${table}`,
  );
  assert.deepEqual(counts, { rows: String(TOTAL), distinct_ids: String(TOTAL), distinct_orders: String(TOTAL) });
  const stored = (await postgres.server.query<{ event_id: string }>(`SELECT event_id FROM ${table}`)).map((r) => r.event_id).sort();
  assert.deepEqual(stored, [...ids].sort());
  assert.ok(rewritten.length > 0, 'events the dead worker had stored (not acknowledged) were written again, and stored once');
  assert.deepEqual(failures, [], 'no write failed (a second INSERT of a stored event would), nothing was dead-lettered');
  assert.equal(await pendingCount(redis.sluice, stream.name, group), 0);
});
