import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { orderEvent } from '../../src/index.js';
import { explain, lines, runCli, spawnCli } from '../cli/cli.js';
import { pendingCount } from '../helpers/pending.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useTempDir } from '../helpers/fixtures.js';
import { useSluice } from '../helpers/sluice-fixture.js';
import { waitFor } from '../helpers/wait.js';

const redis = useSluice();
const dir = useTempDir('sluice-test-run-');

let files = 0;
async function yamlFile(text: string): Promise<string> {
  const path = join(dir.path, `pipeline-${++files}.yaml`);
  await writeFile(path, text);
  return path;
}

interface Summary {
  pipelines: Array<{ name: string; stream: string; group: string; source: string; processed: number; filtered: number; deadLettered: number; published: number; written: Record<string, number> }>;
  seconds: number;
  stoppedBy: string;
}

describe('sluice run', () => {
  test('a bad config exits 2 with file:line:col: key: message, before connecting to anything', async () => {
    const file = await yamlFile(`name: orders
source:
  type: stream
  stream: events:orders
steps:
  - route:
      - when: double(amount) >
        to: [{ type: stdout }]
`);
    // No --redis: connecting would try the managed server, which the test environment cannot start (exit 1).
    for (const args of [['run', file, '--check'], ['run', file]]) {
      const result = await runCli(args);
      assert.equal(result.code, 2, explain(result));
      assert.equal(result.stdout, '');
      assert.match(result.stderr, new RegExp(`^sluice: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:7:31: steps\\[0\\]\\.route\\[0\\]\\.when: expected a CEL expression \\(Unexpected token: EOF`));
      assert.equal(lines(result.stderr).length, 1, 'one line');
    }
  });

  test('a missing environment variable exits 2 naming it and its place; set, the file checks', async () => {
    const file = await yamlFile(`name: orders
source: { type: stream, stream: events:orders }
sinks:
  - type: postgres
    connectionString: \${SHOP_DATABASE_URL}
    table: orders
`);
    const missing = await runCli(['run', file, '--check'], { env: { SHOP_DATABASE_URL: undefined } });
    assert.equal(missing.code, 2, explain(missing));
    assert.match(missing.stderr, /:5:23: sinks\[0\]\.connectionString: environment variable SHOP_DATABASE_URL is not set/);
    const ok = await runCli(['--json', 'run', file, '--check'], { env: { SHOP_DATABASE_URL: 'postgres://db.internal/shop' } });
    assert.equal(ok.code, 0, explain(ok));
    assert.deepEqual(JSON.parse(ok.stdout), { ok: true, file, pipelines: [{ name: 'orders', stream: 'events:orders', group: 'orders', source: 'stream', sinks: ['postgres:orders'] }] });
  });

  test('--until-idle --json: a file source into SQLite, a summary, exit 0', async () => {
    const stream = `${uniquePrefix('cli')}orders`;
    const events = Array.from({ length: 40 }, (_, i) => orderEvent(i + 1));
    await writeFile(join(dir.path, 'orders.jsonl'), events.map((e) => JSON.stringify(e)).join('\n'));
    const db = join(dir.path, 'cli.db');
    const file = await yamlFile(`pipelines:
  - name: file-to-db
    source: { type: file, path: ${join(dir.path, 'orders.jsonl')}, stream: ${stream} }
    steps:
      - filter: status != "cancelled"
    sinks:
      - type: sqlite
        path: ${db}
        table: orders
    consumer:
      block: 100
`);
    const result = await runCli(['--redis', redis.server.url, '--json', 'run', file, '--until-idle']);
    assert.equal(result.code, 0, explain(result));
    const summary = JSON.parse(result.stdout) as Summary;
    const kept = events.filter((e) => e.status !== 'cancelled').length;
    assert.equal(summary.stoppedBy, 'idle');
    assert.deepEqual(summary.pipelines, [
      { name: 'file-to-db', stream, group: 'file-to-db', source: 'file', processed: 40, filtered: 40 - kept, deadLettered: 0, published: 40, written: { 'sqlite:orders': kept } },
    ]);
    const rows = new Database(db, { readonly: true }).prepare('SELECT COUNT(*) AS n FROM orders').get() as { n: number };
    assert.equal(rows.n, kept);
    assert.match(result.stderr, /running file-to-db: file → .* \(group file-to-db\) → sqlite:orders/);
  });

  test('SIGTERM closes gracefully: the summary, exit 0, nothing left pending', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('sig')}orders`);
    await stream.publishMany(Array.from({ length: 10 }, (_, i) => orderEvent(i + 1)));
    const out = join(dir.path, 'sig.jsonl');
    const file = await yamlFile(`name: sig
source: { type: stream, stream: ${stream.name} }
sinks:
  - type: jsonl
    path: ${out}
batch:
  linger: 1h
`);
    const cli = spawnCli(['--redis', redis.server.url, '--json', 'run', file]);
    await waitFor(() => cli.stderr().includes('running sig'), { message: () => cli.stderr() });
    await waitFor(async () => (await pendingCount(redis.sluice, stream.name, 'sig')) === 10, { message: 'the events wait in a batch (1h linger)' });
    cli.child.kill('SIGTERM');
    const result = await cli.exited;
    assert.equal(result.code, 0, explain(result));
    const summary = JSON.parse(result.stdout) as Summary;
    assert.equal(summary.stoppedBy, 'SIGTERM');
    assert.equal(summary.pipelines[0]?.processed, 10);
    assert.equal((await readFile(out, 'utf8')).split('\n').filter(Boolean).length, 10, 'the waiting batch was written at close');
    assert.equal(await pendingCount(redis.sluice, stream.name, 'sig'), 0);
  });

  test('a file pipeline killed (SIGKILL) part way: run again, it publishes from its last checkpoint on, every line once more at most', async () => {
    const stream = `${uniquePrefix('killfile')}orders`;
    // Large enough that the first checkpoint (a second in) comes well before the end.
    const total = 300_000;
    const input = join(dir.path, 'kill.jsonl');
    await writeFile(input, Array.from({ length: total }, (_, i) => `{"order_id":"${i + 1}"}\n`).join(''));
    const file = await yamlFile(`name: import
source: { type: file, path: ${input}, stream: ${stream} }
consumer: { consumer: importer-1 }
sinks:
  - type: jsonl
    path: ${join(dir.path, 'kill-out.jsonl')}
`);
    const checkpoint = async () => {
      const text = await redis.server.cli('HGET', `{${stream}}:sources`, `file:${input}`);
      return text ? (JSON.parse(text) as { line: number }).line : 0;
    };
    const first = spawnCli(['--redis', redis.server.url, 'run', file], { timeout: 60_000 });
    try {
      // Once it has recorded progress: writes paused, so the kill lands mid-way whatever the pace.
      await waitFor(async () => (await checkpoint()) > 0, { timeout: 30_000, message: () => first.stderr() });
      await redis.server.cli('CLIENT', 'PAUSE', '10000', 'WRITE');
    } finally {
      first.child.kill('SIGKILL');
    }
    await first.exited;
    await redis.server.cli('CLIENT', 'UNPAUSE');
    const atKill = Number(await redis.server.cli('XLEN', stream));
    const line = await checkpoint();
    assert.ok(line > 0 && atKill < total, `killed part way: ${atKill} of ${total} published, checkpoint at line ${line}`);

    const second = await runCli(['--redis', redis.server.url, '--json', 'run', file, '--until-idle'], { timeout: 60_000 });
    assert.equal(second.code, 0, explain(second));
    // The second run published exactly the lines after the checkpoint: what the first run stored
    // past it comes twice, nothing else does, and nothing is missing.
    assert.equal((JSON.parse(second.stdout) as Summary).pipelines[0]?.published, total - line);
    assert.equal(Number(await redis.server.cli('XLEN', stream)), total + (atKill - line));
    const orders = new Set((await redis.sluice.stream(stream).range()).map((e) => e.fields.order_id));
    assert.equal(orders.size, total);
    assert.equal(await checkpoint(), total);
  });

  test('--metrics-port serves the pipeline worker and its group while it runs', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('metrics')}orders`);
    await stream.publishMany(Array.from({ length: 12 }, (_, i) => orderEvent(i + 1)));
    const file = await yamlFile(`name: counted
source: { type: stream, stream: ${stream.name} }
sinks:
  - type: jsonl
    path: ${join(dir.path, 'metrics.jsonl')}
`);
    const cli = spawnCli(['--redis', redis.server.url, 'run', file, '--metrics-port', '0']);
    try {
      const url = await waitFor(() => /metrics at (http:\/\/\S+)\/metrics/.exec(cli.stderr())?.[1], { message: () => cli.stderr() });
      const text = await waitFor<string | undefined>(
        async () => {
          const body = await (await fetch(`${url}/metrics`)).text();
          // The worker's counters are live; the group's figures come from a read cached for 1 s.
          const lag = new RegExp(`^sluice_group_lag\\{stream="${stream.name}",group="counted"\\} 0$`, 'm');
          const pending = new RegExp(`^sluice_group_pending\\{stream="${stream.name}",group="counted"\\} 0$`, 'm');
          return /^sluice_worker_processed_total\{[^}]*group="counted"[^}]*\} 12$/m.test(body) && lag.test(body) && pending.test(body) ? body : undefined;
        },
        { message: 'sluice_worker_processed_total 12, lag 0 and nothing pending for the pipeline' },
      );
      assert.ok(text);
      assert.match(text, new RegExp(`^sluice_stream_length\\{stream="${stream.name}"\\} 12$`, 'm'));
      assert.match(text, new RegExp(`^sluice_group_consumers\\{stream="${stream.name}",group="counted"\\} 1$`, 'm'));
    } finally {
      cli.child.kill('SIGTERM');
    }
    const result = await cli.exited;
    assert.equal(result.code, 0, explain(result));
  });

  test('a failing source ends the run with exit 1 after the summary', async () => {
    const stream = `${uniquePrefix('fail')}orders`;
    await writeFile(join(dir.path, 'broken.jsonl'), '{"order_id":"1"}\nnot json\n');
    const file = await yamlFile(`name: broken
source: { type: file, path: ${join(dir.path, 'broken.jsonl')}, stream: ${stream} }
sinks: [{ type: jsonl, path: ${join(dir.path, 'broken-out.jsonl')} }]
`);
    const result = await runCli(['--redis', redis.server.url, 'run', file, '--until-idle']);
    assert.equal(result.code, 1, explain(result));
    assert.match(result.stdout, /^broken: published 1, processed \d+/);
    assert.match(result.stderr, /sluice: Line 2 of .*broken\.jsonl: expected a JSON object, got invalid JSON/);
  });

  test('usage errors: --until-idle with an endless generator, an unknown --pipeline, a .ts file', async () => {
    const file = await yamlFile(`name: load
source: { type: generator, stream: events:load, rate: 100 }
sinks: [{ type: stdout }]
`);
    const endless = await runCli(['run', file, '--until-idle']);
    assert.equal(endless.code, 2, explain(endless));
    assert.match(endless.stderr, /--until-idle.* would never end: pipeline load .* generator source without `count`/);
    const unknown = await runCli(['run', file, '--pipeline', 'nope', '--check']);
    assert.equal(unknown.code, 2, explain(unknown));
    assert.match(unknown.stderr, /`--pipeline` to name a pipeline of .* \(load\), got `nope`/);
    const ts = await runCli(['run', join(dir.path, 'pipeline.ts')]);
    assert.equal(ts.code, 2, explain(ts));
    assert.match(ts.stderr, /compile it to JavaScript/);
  });
});
