import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { BackpressureError, connect, InvalidOptionError, startServer, type Sluice } from '../../src/index.js';
import { freePort } from '../../src/redis/managed-server.js';
import { createMetrics, instrumentProducer, instrumentWorker } from '../../src/observe/metrics.js';
import { serveMetrics } from '../../src/observe/metrics-endpoint.js';
import { OverviewReader } from '../../src/observe/overview.js';
import { spawnCli } from '../cli/cli.js';
import { createGroup, readNew } from '../flow/helpers.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { onCleanup, useRedis } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/wait.js';
import { find, parsePromText, valueOf, type PromText } from './prom-text.js';

const redis = useRedis();
const opened: Sluice[] = [];

onCleanup(async () => {
  for (const sluice of opened) await sluice.close();
});

/** A connection of its own per test: producer counters then count only that test's publishes. */
async function open(): Promise<Sluice> {
  const sluice = await connect({ url: redis.server.url });
  opened.push(sluice);
  return sluice;
}

async function scrape(url: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string | null; text: PromText; raw: string }> {
  const res = await fetch(`${url}/metrics`, { headers });
  const raw = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), raw, text: res.status === 200 ? parsePromText(raw) : { samples: [], types: new Map() } };
}

async function calls(sluice: Sluice, command: string): Promise<number> {
  const info = await sluice.connection.command<string>(['INFO', 'commandstats']);
  const match = new RegExp(`^cmdstat_${command.replace('|', '\\|')}:calls=(\\d+)`, 'm').exec(info);
  return match ? Number(match[1]) : 0;
}

const silent = pino({ level: 'silent' });

describe('GET /metrics', () => {
  test('a known workload, scraped over HTTP: stream, group, worker, producer and histogram figures are exact', async () => {
    const sluice = await open();
    const prefix = uniquePrefix('metrics');
    const name = `${prefix}orders`;
    const conn = sluice.connection;
    await createGroup(conn, name, 'workers', '0');
    await createGroup(conn, name, 'later', '0');
    await createGroup(conn, name, 'half', '0');
    const reader = new OverviewReader({ sluice, match: `*${prefix}*`, ttl: '1h' });
    const metrics = createMetrics({ overview: reader });
    instrumentProducer(metrics, sluice);

    // 20 orders, every 4th one failing for good: 15 processed, 5 dead-lettered after 2 attempts.
    const stream = sluice.stream(name);
    await stream.publishMany(Array.from({ length: 20 }, (_, n) => ({ n, fail: n % 4 === 3 ? 'yes' : 'no' })));
    const worker = stream.consume({ group: 'workers', maxDeliveries: 2, backoff: { initial: 1 } }, async (event) => {
      if (event.fields.fail === 'yes') throw new Error('payment declined');
    });
    instrumentWorker(metrics, worker);
    let processed = 0;
    let dead = 0;
    worker.on('processed', () => processed++);
    worker.on('dead-lettered', () => dead++);
    await waitFor(() => processed === 15 && dead === 5, { message: () => `processed ${processed}, dead-lettered ${dead}` });
    // Acks are batched: wait until Redis has them all.
    await waitFor(async () => (await conn.command<[number]>(['XPENDING', name, 'workers']))[0] === 0, { message: 'acks flushed' });
    // `half`: 4 delivered, none acknowledged.
    await readNew(conn, name, 'half', 4);

    const http = await startServer({ sluice, port: 0, logger: silent, metrics });
    try {
      const before = await calls(sluice, 'xinfo|stream');
      const [first, second] = await Promise.all([scrape(http.url), scrape(http.url)]);
      const third = await scrape(http.url);
      assert.equal(first.status, 200, first.raw);
      assert.match(first.type ?? '', /^text\/plain; version=0\.0\.4/);
      // Three scrapes within the TTL, two of them at once: one read of Redis.
      assert.equal(reader.reads, 1);
      assert.equal((await calls(sluice, 'xinfo|stream')) - before, 1, 'one XINFO STREAM (one stream) for three scrapes');
      for (const got of [first, second]) assert.equal(valueOf(got.text, 'sluice_stream_length', { stream: name }), 20);
      const m = third.text;

      const s = { stream: name };
      assert.equal(valueOf(m, 'sluice_stream_length', s), 20);
      assert.equal(valueOf(m, 'sluice_stream_entries_added_total', s), 20);
      assert.equal(valueOf(m, 'sluice_stream_dead_letters', s), 5);
      assert.ok((valueOf(m, 'sluice_stream_memory_bytes', s) ?? 0) > 0);
      assert.ok((valueOf(m, 'sluice_stream_oldest_entry_age_seconds', s) ?? -1) >= 0);
      assert.ok((valueOf(m, 'sluice_stream_newest_entry_age_seconds', s) ?? -1) >= 0);
      // The dead-letter stream is a figure of its stream, not a stream of its own.
      assert.deepEqual(find(m, 'sluice_stream_length').filter((x) => x.labels.stream?.includes(prefix)).map((x) => x.labels.stream), [name]);

      const g = (group: string) => ({ stream: name, group });
      assert.deepEqual(
        ['workers', 'later', 'half'].map((group) => [
          group,
          valueOf(m, 'sluice_group_lag', g(group)),
          valueOf(m, 'sluice_group_pending', g(group)),
          valueOf(m, 'sluice_group_consumers', g(group)),
        ]),
        [
          ['workers', 0, 0, 1],
          ['later', 20, 0, 0],
          ['half', 16, 4, 1],
        ],
      );
      assert.equal(valueOf(m, 'sluice_group_entries_read_total', g('half')), 4);
      assert.equal(valueOf(m, 'sluice_group_lag_seconds', g('workers')), 0, 'caught up: not behind');
      assert.ok((valueOf(m, 'sluice_group_lag_seconds', g('half')) ?? -1) > 0, 'behind by the age of its first undelivered event');
      assert.ok((valueOf(m, 'sluice_group_oldest_pending_age_seconds', g('half')) ?? -1) >= 0);
      assert.equal(valueOf(m, 'sluice_group_oldest_pending_age_seconds', g('workers')), undefined, 'absent when nothing is pending');

      const w = { stream: name, group: 'workers' };
      assert.equal(valueOf(m, 'sluice_worker_processed_total', w), 15);
      assert.equal(valueOf(m, 'sluice_worker_failed_total', w), 10, 'two failed attempts for each of 5 events');
      assert.equal(valueOf(m, 'sluice_worker_retried_total', w), 5);
      assert.equal(valueOf(m, 'sluice_worker_dead_lettered_total', { ...w, reason: 'max-deliveries' }), 5);
      assert.equal(valueOf(m, 'sluice_worker_reclaimed_total', w), 0);
      assert.equal(valueOf(m, 'sluice_worker_rate_limited_seconds_total', w), 0, 'no rateLimit, no wait');
      assert.equal(valueOf(m, 'sluice_worker_in_flight', w), 0);
      for (const histogram of ['sluice_worker_handler_duration_seconds', 'sluice_worker_end_to_end_latency_seconds']) {
        assert.equal(m.types.get(histogram), 'histogram');
        assert.equal(valueOf(m, `${histogram}_count`, w), 15, histogram);
        assert.equal(valueOf(m, `${histogram}_bucket`, { ...w, le: '+Inf' }), 15, histogram);
        const buckets = find(m, `${histogram}_bucket`, w).map((b) => b.value);
        assert.deepEqual(buckets, [...buckets].sort((a, b) => a - b), `${histogram} buckets are cumulative`);
        assert.ok((valueOf(m, `${histogram}_sum`, w) ?? -1) >= 0);
      }
      // No event ID or consumer name ever becomes a label.
      const labelNames = new Set(m.samples.filter((x) => x.name.startsWith('sluice_')).flatMap((x) => Object.keys(x.labels)));
      assert.deepEqual([...labelNames].sort(), ['group', 'le', 'reason', 'stream']);

      assert.equal(valueOf(m, 'sluice_producer_published_total', s), 20);
      assert.equal(valueOf(m, 'sluice_producer_batch_size_sum'), 20, 'the batches add up to the 20 events');
      const batches = valueOf(m, 'sluice_producer_batch_size_count') ?? 0;
      assert.ok(batches >= 1 && batches <= 20, `batches ${batches}`);
      assert.equal(valueOf(m, 'sluice_producer_batch_duration_seconds_count'), batches);

      assert.equal(valueOf(m, 'sluice_overview_up'), 1);
      assert.equal(valueOf(m, 'sluice_overview_truncated'), 0);
      assert.ok(find(m, 'process_cpu_user_seconds_total').length === 1, 'process metrics of a new registry');
    } finally {
      await http.close();
      await worker.close();
    }
  });

  test('follows the server token; on by default with the connection producer counters; `metrics: false` removes it', async () => {
    const sluice = await open();
    const name = `${uniquePrefix('auth')}s`;
    const http = await startServer({ sluice, port: 0, logger: silent, token: 'secret-token' });
    try {
      await sluice.stream(name).publishMany([{ a: 1 }, { a: 2 }, { a: 3 }]);
      const denied = await scrape(http.url);
      assert.equal(denied.status, 401);
      const ok = await scrape(http.url, { authorization: 'Bearer secret-token' });
      assert.equal(ok.status, 200, ok.raw);
      assert.equal(valueOf(ok.text, 'sluice_stream_length', { stream: name }), 3);
      assert.equal(valueOf(ok.text, 'sluice_producer_published_total', { stream: name }), 3);
    } finally {
      await http.close();
    }
    const without = await startServer({ sluice, port: 0, logger: silent, metrics: false });
    try {
      assert.equal((await scrape(without.url)).status, 404);
    } finally {
      await without.close();
    }
  });

  test('Redis unreachable: the scrape still answers, with overview_up 0 and no stale stream figures', async () => {
    const gone = await connect({ url: redis.server.url });
    await gone.close();
    const metrics = createMetrics({ overview: new OverviewReader({ sluice: gone, ttl: 0 }) });
    const first = parsePromText(await metrics.render());
    const second = parsePromText(await metrics.render());
    assert.equal(valueOf(first, 'sluice_overview_up'), 0);
    assert.equal(valueOf(second, 'sluice_overview_read_errors_total'), 2);
    assert.deepEqual(find(second, 'sluice_stream_length'), []);
  });

  test('backpressure waits and rejections are counted per stream and limit', async () => {
    const sluice = await open();
    const name = `${uniquePrefix('bp')}s`;
    const metrics = createMetrics({ processMetrics: false });
    instrumentProducer(metrics, sluice);
    const stream = sluice.stream(name, { backpressure: { maxLen: 2, onLimit: 'reject' } });
    await stream.publishMany([{ a: 1 }, { a: 2 }]);
    await assert.rejects(stream.publish({ a: 3 }), BackpressureError);
    const m = parsePromText(await metrics.render());
    assert.equal(valueOf(m, 'sluice_producer_backpressure_rejections_total', { stream: name, limit: 'max-len' }), 1);
    assert.equal(valueOf(m, 'sluice_producer_published_total', { stream: name }), 2);
  });
});

describe('createMetrics', () => {
  test('a prefix, an existing registry beside the application metrics, and checked options', async () => {
    const registry = new Registry();
    const metrics = createMetrics({ registry, prefix: 'orders_' });
    assert.equal(metrics.registry, registry);
    const text = parsePromText(await registry.metrics());
    assert.equal(text.types.get('orders_worker_processed_total'), 'counter');
    assert.equal(text.types.get('orders_stream_length'), 'gauge');
    assert.equal(find(text, 'process_cpu_user_seconds_total').length, 0, 'no process metrics added to a given registry');
    assert.ok(![...text.types.keys()].some((n) => n.startsWith('sluice_')));
    // A second set in the same registry with the same prefix would clash; another prefix does not.
    assert.throws(() => createMetrics({ registry, prefix: 'orders_' }), /already been registered/);
    createMetrics({ registry, prefix: 'other_' });

    assert.throws(() => createMetrics({ prefix: 'bad prefix' }), InvalidOptionError);
    assert.throws(() => createMetrics({ buckets: { latency: [1, 0.5] } }), /buckets\.latency/);
    assert.throws(() => createMetrics({ overview: {} as never }), /overview/);
  });
});

describe('serveMetrics and --metrics-port', () => {
  test('a standalone endpoint answers GET /metrics, 404 elsewhere, 405 for other methods', async () => {
    const metrics = createMetrics();
    const endpoint = await serveMetrics({ metrics, port: 0 });
    try {
      assert.match(endpoint.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      const ok = await scrape(endpoint.url);
      assert.equal(ok.status, 200);
      assert.equal(ok.text.types.get('sluice_worker_processed_total'), 'counter');
      assert.equal((await fetch(`${endpoint.url}/other`)).status, 404);
      const post = await fetch(`${endpoint.url}/metrics`, { method: 'POST' });
      assert.equal(post.status, 405);
      assert.equal(post.headers.get('allow'), 'GET, HEAD');
    } finally {
      await endpoint.close();
    }
    await assert.rejects(serveMetrics({ metrics, port: 70_000 }), InvalidOptionError);
  });

  test('sluice consume --metrics-port serves its worker, group and stream figures', async () => {
    const sluice = await open();
    const name = `${uniquePrefix('cli')}s`;
    await sluice.stream(name).publishMany(Array.from({ length: 7 }, (_, n) => ({ n })));
    const dir = await mkdtemp(join(tmpdir(), 'sluice-test-metrics-'));
    const handler = join(dir, 'handler.mjs');
    await writeFile(handler, 'export default async () => {};\n');
    const port = await freePort();
    const cli = spawnCli(['consume', name, '--redis', redis.server.url, '--group', 'g', '--from', '0', '--handler', handler, '--metrics-port', String(port)], { timeout: 60_000 });
    try {
      const url = `http://127.0.0.1:${port}`;
      const m = await waitFor<PromText | undefined>(
        async () => {
          const got = await scrape(url);
          return valueOf(got.text, 'sluice_worker_processed_total', { stream: name, group: 'g' }) === 7 ? got.text : undefined;
        },
        { timeout: 30_000, message: () => `7 processed at ${url}/metrics; stderr: ${cli.stderr()}` },
      );
      assert.ok(m);
      assert.equal(valueOf(m, 'sluice_worker_end_to_end_latency_seconds_count', { stream: name, group: 'g' }), 7);
      assert.equal(valueOf(m, 'sluice_stream_length', { stream: name }), 7);
      // Only the consumed stream is read from Redis, not every stream on the server.
      assert.deepEqual(find(m, 'sluice_stream_length').map((x) => x.labels.stream), [name]);
      assert.match(cli.stderr(), new RegExp(`metrics at http://127\\.0\\.0\\.1:${port}/metrics`));
    } finally {
      cli.child.kill('SIGTERM');
      const result = await cli.exited;
      await rm(dir, { recursive: true, force: true });
      assert.equal(result.code, 0, result.stderr);
    }
  });
});
