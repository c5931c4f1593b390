import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { definePipeline, InvalidOptionError, runPipeline, SourceError, type PipelineConfig, type RunningPipeline } from '../../src/index.js';
import { pendingCount } from '../helpers/pending.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useTempDir } from '../helpers/fixtures.js';
import { useSluice } from '../helpers/sluice-fixture.js';
import { waitFor } from '../helpers/wait.js';
import { closePipelinesAfterEach, MemorySink, recordingLogger } from './helpers.js';

const redis = useSluice();
const dir = useTempDir('sluice-test-sources-');
const track = closePipelinesAfterEach();

async function run(config: PipelineConfig, input?: NodeJS.ReadableStream): Promise<RunningPipeline> {
  const pipeline = definePipeline({ ...config, consumer: { block: 100, ...config.consumer } }, { baseDir: dir.path });
  const started = await runPipeline(pipeline, { sluice: redis.sluice, logger: recordingLogger().logger, ...(input ? { input } : {}) });
  return track(started);
}

describe('sources publish into the pipeline\'s stream, read back through its group', () => {
  test('generator with count: that many order events, then idle; the input stream holds them', async () => {
    const stream = `${uniquePrefix('gen')}orders`;
    const sink = new MemorySink();
    const pipeline = await run({ name: 'gen', source: { type: 'generator', stream, count: 1200 }, sinks: [sink] });
    await pipeline.idle();
    assert.equal(sink.stored.size, 1200);
    const orderIds = [...sink.stored.values()].map((e) => Number(e.fields?.order_id)).sort((a, b) => a - b);
    assert.deepEqual(orderIds, Array.from({ length: 1200 }, (_, i) => i + 1));
    for (const event of sink.stored.values()) assert.deepEqual(Object.keys(event.fields ?? {}), ['order_id', 'customer_id', 'amount', 'status']);
    assert.equal((await redis.sluice.stream(stream).info()).length, 1200);
    assert.deepEqual(pipeline.stats().published, 1200);
    assert.equal(await pendingCount(redis.sluice, stream, 'gen'), 0);
  });

  test('generator with a rate publishes at that pace; a fields template shapes the events', async () => {
    const stream = `${uniquePrefix('rate')}clicks`;
    const sink = new MemorySink();
    const started = performance.now();
    const pipeline = await run({
      name: 'clicks',
      source: { type: 'generator', stream, rate: 40, count: 20, fields: { click: 'c-{{seq}}', page: '{{pick home,cart}}' } },
      sinks: [sink],
      batch: { size: 5, linger: 10 },
    });
    await pipeline.source.finished;
    const seconds = (performance.now() - started) / 1000;
    // 20 events at 40/s: the last is due at 0.475 s.
    assert.ok(seconds >= 0.4 && seconds < 3, `20 events at 40/s took ${seconds.toFixed(2)} s`);
    await pipeline.idle();
    const clicks = [...sink.stored.values()].map((e) => e.fields?.click).sort((a, b) => Number(a?.slice(2)) - Number(b?.slice(2)));
    assert.deepEqual(clicks, Array.from({ length: 20 }, (_, i) => `c-${i + 1}`));
    for (const event of sink.stored.values()) assert.ok(['home', 'cart'].includes(event.fields?.page as string));
  });

  test('an endless generator stops with close(): everything it published is processed or left pending', async () => {
    const stream = `${uniquePrefix('endless')}orders`;
    const sink = new MemorySink();
    const pipeline = await run({ name: 'endless', source: { type: 'generator', stream, rate: 500 }, sinks: [sink], batch: { size: 10, linger: 10 } });
    await waitFor(() => sink.stored.size >= 30, { message: () => `stored ${sink.stored.size}` });
    assert.equal(pipeline.source.finite, false);
    await pipeline.close();
    const published = pipeline.stats().published;
    const length = (await redis.sluice.stream(stream).info()).length;
    assert.equal(length, published, 'every publish the generator counted is in the stream');
    assert.equal(sink.stored.size + (await pendingCount(redis.sluice, stream, 'endless')) + ((await redis.sluice.stream(stream).info()).groups[0]?.lag ?? 0), published);
  });

  test('a JSON Lines file: one event per line, then idle', async () => {
    const stream = `${uniquePrefix('file')}orders`;
    const lines = Array.from({ length: 30 }, (_, i) => JSON.stringify({ order_id: String(i + 1), amount: `${i}.50`, quantity: i + 1 }));
    await writeFile(join(dir.path, 'orders.jsonl'), `${lines.join('\n')}\n\n`);
    const sink = new MemorySink();
    const pipeline = await run({ name: 'file', source: { type: 'file', path: join(dir.path, 'orders.jsonl'), stream }, steps: [{ filter: 'int(order_id) % 2 == 0' }], sinks: [sink] });
    await pipeline.idle();
    assert.equal(pipeline.stats().published, 30);
    assert.deepEqual([...sink.stored.values()].map((e) => e.fields?.order_id).sort((a, b) => Number(a) - Number(b)), Array.from({ length: 15 }, (_, i) => String((i + 1) * 2)));
    // Numbers of the JSON become the fields' text, as with `sluice publish --file`.
    for (const event of sink.stored.values()) assert.equal(event.fields?.quantity, event.fields?.order_id);
  });

  test('a file pipeline run again publishes only what is new: nothing, the appended lines, or a new file whole', async () => {
    const stream = `${uniquePrefix('resume')}orders`;
    const path = join(dir.path, 'resume.jsonl');
    const line = (n: number) => JSON.stringify({ order_id: String(n) });
    const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `${line(from + i)}\n`).join('');
    const once = async () => {
      const sink = new MemorySink();
      const pipeline = await run({ name: 'resume', source: { type: 'file', path, stream }, sinks: [sink] });
      await pipeline.idle();
      await pipeline.close();
      return { published: pipeline.stats().published, orders: [...sink.stored.values()].map((e) => Number(e.fields?.order_id)).sort((a, b) => a - b) };
    };
    const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
    await writeFile(path, `${lines(1, 10)}\n`);
    assert.deepEqual(await once(), { published: 10, orders: range(1, 10) });
    assert.deepEqual(await once(), { published: 0, orders: [] }, 'the same file again: nothing new');
    await writeFile(path, `${lines(1, 10)}\n${lines(11, 15)}`);
    assert.deepEqual(await once(), { published: 5, orders: range(11, 15) }, 'the appended lines only');
    assert.equal((await redis.sluice.stream(stream).info()).length, 15);
    // Another file at the same path (its start differs): read whole.
    await writeFile(path, lines(101, 103));
    assert.deepEqual(await once(), { published: 3, orders: range(101, 103) });
    // The checkpoint is in Redis beside the stream, one field per file.
    const checkpoint = JSON.parse((await redis.server.cli('HGET', `{${stream}}:sources`, `file:${path}`)) as string) as { line: number };
    assert.equal(checkpoint.line, 3);
  });

  test('resume: false reads the whole file every run', async () => {
    const stream = `${uniquePrefix('noresume')}orders`;
    const path = join(dir.path, 'again.jsonl');
    await writeFile(path, '{"order_id":"1"}\n{"order_id":"2"}\n');
    for (let round = 1; round <= 2; round++) {
      const pipeline = await run({ name: 'again', source: { type: 'file', path, stream, resume: false }, sinks: [new MemorySink()] });
      await pipeline.idle();
      await pipeline.close();
      assert.equal(pipeline.stats().published, 2);
      assert.equal((await redis.sluice.stream(stream).info()).length, 2 * round);
    }
    assert.equal(await redis.server.cli('EXISTS', `{${stream}}:sources`), '0');
  });

  test('a run stopped part way: the next one publishes the rest, and does not start over', async () => {
    const stream = `${uniquePrefix('partway')}orders`;
    const path = join(dir.path, 'large.jsonl');
    const total = 40_000;
    await writeFile(path, Array.from({ length: total }, (_, i) => `{"order_id":"${i + 1}"}\n`).join(''));
    // One consumer name for both runs, as a restarted service keeps: the second run delivers what
    // the first left pending at once, rather than after claimIdle.
    const consumer = { consumer: 'importer-1' };
    const first = await run({ name: 'partway', source: { type: 'file', path, stream }, sinks: [new MemorySink()], consumer });
    await waitFor(() => first.stats().published >= 5000, { message: () => `published ${first.stats().published}` });
    await first.close();
    const before = (await redis.sluice.stream(stream).info()).length;
    assert.ok(before < total, `the first run was stopped part way (${before} of ${total} published)`);
    const second = await run({ name: 'partway', source: { type: 'file', path, stream }, sinks: [new MemorySink()], consumer });
    await second.idle();
    const ids = new Set((await redis.sluice.stream(stream).range()).map((e) => e.fields.order_id));
    assert.equal(ids.size, total, 'every line is in the stream');
    // Closed gracefully, the first run recorded exactly what Redis confirmed: nothing comes twice.
    assert.equal((await redis.sluice.stream(stream).info()).length, total);
  });

  test('a bad line ends a file source with SourceError naming the line; the lines before it are processed', async () => {
    const stream = `${uniquePrefix('badline')}orders`;
    await writeFile(join(dir.path, 'bad.jsonl'), '{"order_id":"1"}\n{"order_id":"2"}\n{"order_id": oops}\n{"order_id":"4"}\n');
    const sink = new MemorySink();
    const pipeline = await run({ name: 'badline', source: { type: 'file', path: join(dir.path, 'bad.jsonl'), stream }, sinks: [sink] });
    await assert.rejects(pipeline.idle(), (error: unknown) => error instanceof SourceError && /^Line 3 of .*bad\.jsonl: expected a JSON object, got invalid JSON/.test(error.message));
    await waitFor(() => sink.stored.size === 2, { message: () => `stored ${sink.stored.size}` });
    assert.equal(pipeline.stats().published, 2);
  });

  test('a missing file is refused before anything connects, naming the key', async () => {
    const pipeline = definePipeline({ name: 'missing', source: { type: 'file', path: join(dir.path, 'nope.jsonl'), stream: 'x' }, sinks: [new MemorySink()] }, { baseDir: dir.path });
    await assert.rejects(pipeline.prepare(), (error: unknown) => error instanceof InvalidOptionError && error.option === 'source.path' && /no such file/.test(error.message));
  });

  test('stdin: JSON Lines until the input ends', async () => {
    const stream = `${uniquePrefix('stdin')}orders`;
    const input = new PassThrough();
    const sink = new MemorySink();
    const pipeline = await run({ name: 'stdin', source: { type: 'stdin', stream }, sinks: [sink] }, input);
    input.write('{"order_id":"1","status":"paid"}\n');
    input.write('{"order_id":"2","status":"paid"}\n');
    await waitFor(() => sink.stored.size === 2, { message: () => `stored ${sink.stored.size}` });
    input.end('{"order_id":"3","status":"paid"}\n');
    await pipeline.idle();
    assert.deepEqual([...sink.stored.values()].map((e) => e.fields?.order_id).sort(), ['1', '2', '3']);
  });

  test('http: the ingest server answers once Redis has the events; the pipeline reads them through its group', async () => {
    const stream = `${uniquePrefix('http')}orders`;
    const sink = new MemorySink();
    const pipeline = await run({ name: 'ingest', source: { type: 'http', stream, port: 0, token: 's3cret' }, sinks: [sink] });
    const url = `${pipeline.source.url}/streams/${stream}/events`;
    const refused = await fetch(url, { method: 'POST', body: '{"order_id":"0"}', headers: { 'content-type': 'application/json' } });
    assert.equal(refused.status, 401);
    const response = await fetch(url, {
      method: 'POST',
      body: JSON.stringify([{ order_id: '1', amount: '10.00' }, { order_id: '2', amount: '20.00' }]),
      headers: { 'content-type': 'application/json', authorization: 'Bearer s3cret' },
    });
    assert.equal(response.status, 201);
    const { ids } = (await response.json()) as { ids: string[] };
    await waitFor(() => ids.every((id) => sink.stored.has(id)), { message: 'both events reached the sink' });
    await pipeline.close();
    await assert.rejects(fetch(url, { method: 'POST', body: '{}' }), 'the server is closed with the pipeline');
  });
});
