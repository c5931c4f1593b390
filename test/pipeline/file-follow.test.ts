import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFile, copyFile, rename, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { definePipeline, InvalidOptionError, runPipeline, SourceError, type PipelineConfig, type RunningPipeline } from '../../src/index.js';
import { explain, runCli, spawnCli } from '../cli/cli.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useTempDir } from '../helpers/fixtures.js';
import { useSluice } from '../helpers/sluice-fixture.js';
import { waitFor } from '../helpers/wait.js';
import { closePipelinesAfterEach, MemorySink, recordingLogger } from './helpers.js';

const redis = useSluice();
const dir = useTempDir('sluice-test-follow-');
const track = closePipelinesAfterEach();

let files = 0;
/** A new file in the test's folder, holding `text`. */
async function newFile(text: string): Promise<string> {
  const path = join(dir.path, `app-${++files}.jsonl`);
  await writeFile(path, text);
  return path;
}

const order = (n: number) => `${JSON.stringify({ order_id: String(n) })}\n`;
const orders = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => order(from + i)).join('');
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => String(from + i));

async function run(config: PipelineConfig, logger = recordingLogger()): Promise<RunningPipeline> {
  const pipeline = definePipeline({ ...config, consumer: { block: 100, ...config.consumer } }, { baseDir: dir.path });
  return track(await runPipeline(pipeline, { sluice: redis.sluice, logger: logger.logger }));
}

const xlen = async (stream: string) => Number(await redis.server.cli('XLEN', stream));
/** The `order_id` of every event of the stream, in stream order. */
const storedOrders = async (stream: string) => (await redis.sluice.stream(stream).range()).map((e) => e.fields.order_id);
const waitForLength = (stream: string, length: number) =>
  waitFor(async () => (await xlen(stream)) === length, { message: () => `XLEN ${stream} to be ${length}` });
const checkpointOf = async (stream: string, path: string) =>
  JSON.parse((await redis.server.cli('HGET', `{${stream}}:sources`, `file:${path}`)) as string) as { line: number; fingerprintBytes: number; fingerprint: string };
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('a file source with follow: true publishes lines as they are appended', () => {
  test('the lines there, then each appended line; a line written in two parts is one event; not finite', async () => {
    const stream = `${uniquePrefix('follow')}orders`;
    const path = await newFile(orders(1, 3));
    const sink = new MemorySink();
    const pipeline = await run({ name: 'follow', source: { type: 'file', path, stream, follow: true, pollInterval: '50ms' }, sinks: [sink] });
    assert.equal(pipeline.source.finite, false);
    await waitForLength(stream, 3);
    await appendFile(path, orders(4, 5));
    await waitForLength(stream, 5);
    // A writer caught mid-line: line 6 whole and the start of line 7 in one write. Once line 6 is
    // published, the follower has read that write: the start of line 7 is held, not published.
    await appendFile(path, `${order(6)}{"order_id":"7","sta`);
    await waitForLength(stream, 6);
    await waitFor(() => sink.stored.size === 6, { message: () => `stored ${sink.stored.size}` });
    assert.equal(await xlen(stream), 6, 'half a line is not published');
    await appendFile(path, 'tus":"paid"}\n');
    await waitForLength(stream, 7);
    const events = await redis.sluice.stream(stream).range();
    assert.deepEqual(events.map((e) => e.fields.order_id), range(1, 7));
    assert.deepEqual(events[6]?.fields, { order_id: '7', status: 'paid' });
    await waitFor(() => sink.stored.size === 7, { message: () => `stored ${sink.stored.size}` });
    assert.equal(pipeline.stats().published, 7);
  });

  test('copytruncate rotation: the truncated file is read again from its start; nothing lost, nothing twice', async () => {
    const stream = `${uniquePrefix('truncate')}orders`;
    const path = await newFile(orders(1, 5));
    const logger = recordingLogger();
    const pipeline = await run({ name: 'truncate', source: { type: 'file', path, stream, follow: true, pollInterval: '20ms' }, sinks: [new MemorySink()] }, logger);
    await waitForLength(stream, 5);
    await appendFile(path, orders(6, 7));
    await waitForLength(stream, 7);
    // What logrotate's copytruncate does: copy the file aside, then cut it to nothing in place.
    await copyFile(path, `${path}.1`);
    await truncate(path, 0);
    await waitFor(() => logger.lines.some((line) => line.includes('was truncated')), { message: 'the truncation is logged' });
    const logged = JSON.parse(logger.lines.find((line) => line.includes('was truncated')) as string) as { level: number; path: string };
    assert.equal(logged.level, 30, 'at info');
    assert.equal(logged.path, path);
    await appendFile(path, orders(8, 10));
    await waitForLength(stream, 10);
    assert.deepEqual(await storedOrders(stream), range(1, 10));
    await pipeline.close();
    assert.equal(await xlen(stream), 10);
    // The checkpoint describes the file read now: its 3 lines, its own start.
    assert.deepEqual(await checkpointOf(stream, path), { line: 3, fingerprintBytes: orders(8, 10).length, fingerprint: sha256(orders(8, 10)) });
  });

  test('rotation by rename: the old file is finished (lines the writer added after the rename too), then the new one from its start', async () => {
    const stream = `${uniquePrefix('rotate')}orders`;
    const path = await newFile(orders(1, 5));
    const logger = recordingLogger();
    const pipeline = await run({ name: 'rotate', source: { type: 'file', path, stream, follow: true, pollInterval: '20ms' }, sinks: [new MemorySink()] }, logger);
    await waitForLength(stream, 5);
    await appendFile(path, orders(6, 7));
    // `mv app.log app.log.1`: the writer keeps its file open and writes on into app.log.1 until it
    // reopens the path; then `app.log` is created again.
    await rename(path, `${path}.1`);
    await appendFile(`${path}.1`, orders(8, 9));
    await writeFile(path, orders(10, 12));
    await waitForLength(stream, 12);
    assert.deepEqual(await storedOrders(stream), range(1, 12));
    const logged = logger.lines.filter((line) => line.includes('was replaced (rotated)'));
    assert.equal(logged.length, 1, logger.lines.join('\n'));
    assert.equal((JSON.parse(logged[0] as string) as { path: string }).path, path);
    await appendFile(path, orders(13, 13));
    await waitForLength(stream, 13);
    await pipeline.close();
    assert.deepEqual(await storedOrders(stream), range(1, 13));
    assert.deepEqual(await checkpointOf(stream, path), { line: 4, fingerprintBytes: orders(10, 13).length, fingerprint: sha256(orders(10, 13)) });
  });

  test('stopped and run again with resume: it goes on after the last line, exactly', async () => {
    const stream = `${uniquePrefix('rerun')}orders`;
    const path = await newFile(orders(1, 3));
    const config: PipelineConfig = { name: 'rerun', source: { type: 'file', path, stream, follow: true, pollInterval: '20ms' }, sinks: [new MemorySink()] };
    const first = await run(config);
    await waitForLength(stream, 3);
    await appendFile(path, `${orders(4, 5)}\n`);
    await waitForLength(stream, 5);
    const started = Date.now();
    await first.close();
    assert.ok(Date.now() - started < 3000, `close() was prompt (${Date.now() - started} ms)`);
    assert.equal((await checkpointOf(stream, path)).line, 6, 'the checkpoint covers the trailing blank line too');
    // Written while nothing follows the file.
    await appendFile(path, orders(6, 7));
    const second = await run({ ...config, sinks: [new MemorySink()] });
    await waitForLength(stream, 7);
    await appendFile(path, orders(8, 8));
    await waitForLength(stream, 8);
    await second.close();
    assert.deepEqual(await storedOrders(stream), range(1, 8));
    assert.equal(second.stats().published, 3);
    assert.equal((await checkpointOf(stream, path)).line, 9);
  });

  test('a file empty at the start: its checkpoint identifies what was appended, so another file there next time is read whole', async () => {
    const stream = `${uniquePrefix('empty')}orders`;
    const path = await newFile('');
    const config: PipelineConfig = { name: 'empty', source: { type: 'file', path, stream, follow: true, pollInterval: '20ms' }, sinks: [new MemorySink()] };
    const first = await run(config);
    await appendFile(path, orders(1, 4));
    await waitForLength(stream, 4);
    await first.close();
    assert.deepEqual(await checkpointOf(stream, path), { line: 4, fingerprintBytes: orders(1, 4).length, fingerprint: sha256(orders(1, 4)) });
    // Rotated while stopped: another file, with fewer lines than the checkpoint's.
    await writeFile(path, orders(101, 102));
    const second = await run({ ...config, sinks: [new MemorySink()] });
    await waitForLength(stream, 6);
    await second.close();
    assert.deepEqual(await storedOrders(stream), [...range(1, 4), '101', '102']);
  });

  test('a bad line appended while following ends the source with SourceError naming the line', async () => {
    const stream = `${uniquePrefix('badline')}orders`;
    const path = await newFile(orders(1, 2));
    const pipeline = await run({ name: 'badline', source: { type: 'file', path, stream, follow: true, pollInterval: '20ms' }, sinks: [new MemorySink()] });
    await waitForLength(stream, 2);
    await appendFile(path, `${orders(3, 3)}{"order_id": oops}\n${orders(5, 5)}`);
    await assert.rejects(pipeline.source.finished, (error: unknown) => error instanceof SourceError && /^Line 4 of .*\.jsonl: expected a JSON object, got invalid JSON/.test(error.message));
    assert.equal(await xlen(stream), 3);
    assert.equal((await checkpointOf(stream, path)).line, 3, 'the checkpoint stops before the bad line');
  });

  test('bad values of follow and pollInterval are refused, naming the key', () => {
    const refused = (source: Record<string, unknown>, option: string, expected: RegExp) =>
      assert.throws(
        () => definePipeline({ name: 'bad', source: { type: 'file', path: 'x.jsonl', stream: 'x', ...source } as PipelineConfig['source'], sinks: [new MemorySink()] }),
        (error: unknown) => error instanceof InvalidOptionError && error.option === option && expected.test(error.message),
      );
    refused({ follow: 'yes' }, 'source.follow', /Expected `source.follow` to be `true` or `false`, got `yes`/);
    refused({ follow: true, pollInterval: 'fast' }, 'source.pollInterval', /a duration like 500ms/);
    refused({ follow: true, pollInterval: 0 }, 'source.pollInterval', /a duration of at least 1 ms, got 0/);
    refused({ follow: true, pollInterval: -5 }, 'source.pollInterval', /got -5/);
    refused({ pollInterval: '1s' }, 'source.pollInterval', /absent unless `follow` is true/);
    refused({ folow: true }, 'source.folow', /did you mean `follow`/);
  });
});

describe('sluice run with a followed file', () => {
  test('publishes the lines appended while it runs; SIGTERM stops it with exit 0', async () => {
    const stream = `${uniquePrefix('clifollow')}orders`;
    const path = await newFile(orders(1, 2));
    const out = join(dir.path, 'cli-out.jsonl');
    const file = join(dir.path, 'follow.yaml');
    await writeFile(
      file,
      `name: tail
source: { type: file, path: ${path}, stream: ${stream}, follow: true, pollInterval: 50ms }
sinks:
  - type: jsonl
    path: ${out}
`,
    );
    const cli = spawnCli(['--redis', redis.server.url, '--json', 'run', file]);
    try {
      await waitForLength(stream, 2);
      await appendFile(path, orders(3, 5));
      await waitForLength(stream, 5);
    } finally {
      cli.child.kill('SIGTERM');
    }
    const result = await cli.exited;
    assert.equal(result.code, 0, explain(result));
    const summary = JSON.parse(result.stdout) as { stoppedBy: string; pipelines: Array<{ published: number }> };
    assert.equal(summary.stoppedBy, 'SIGTERM');
    assert.equal(summary.pipelines[0]?.published, 5);
    assert.deepEqual(await storedOrders(stream), range(1, 5));
  });

  test('a bad pollInterval in YAML: exit 2 naming the key and its place', async () => {
    const file = join(dir.path, 'bad-follow.yaml');
    await writeFile(file, `name: tail\nsource: { type: file, path: ${await newFile(order(1))}, stream: x, follow: true, pollInterval: soon }\nsinks: [{ type: stdout }]\n`);
    const result = await runCli(['run', file, '--check']);
    assert.equal(result.code, 2, explain(result));
    assert.match(result.stderr, /:2:\d+: source\.pollInterval: .*a duration like 500ms/);
  });
});
