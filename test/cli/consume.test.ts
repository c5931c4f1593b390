import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useRedis, useTempDir } from '../helpers/fixtures.js';
import { cliRange } from '../helpers/streams.js';
import { waitFor } from '../helpers/wait.js';
import { explain, lines, repoRoot, runCli, spawnCli } from './cli.js';

const redis = useRedis();
const dir = useTempDir('sluice-test-consume-');

/** The `--json` summary of `sluice consume`. */
interface Summary {
  stream: string;
  group: string;
  consumer: string;
  processed: number;
  failedAttempts: number;
  retried: number;
  deadLettered: number;
  reclaimed: number;
  seconds: number;
  stoppedBy: string;
}

/** What the recording handlers below append to their file, one JSON line per call. */
interface Call {
  event: { stream: string; id: string; time: number; fields?: Record<string, string>; data?: unknown; meta?: Record<string, string> };
  ctx: { deliveryCount: number; group: string; consumer: string };
}

let modules = 0;

/**
 * Writes a handler module to the temp folder. `body` is the handler's body, with `event`, `ctx`
 * and `record()` (appends the call to the module's record file) in scope.
 */
async function handlerModule(body: string): Promise<{ path: string; calls: () => Promise<Call[]> }> {
  const n = ++modules;
  const path = join(dir.path, `handler-${n}.mjs`);
  const recordFile = join(dir.path, `calls-${n}.jsonl`);
  await writeFile(recordFile, '');
  await writeFile(
    path,
    `import { appendFileSync } from 'node:fs';
const record = (event, ctx) =>
  appendFileSync(${JSON.stringify(recordFile)}, JSON.stringify({ event, ctx: { deliveryCount: ctx.deliveryCount, group: ctx.group, consumer: ctx.consumer } }) + '\\n');
export default async (event, ctx) => {
${body}
};
`,
  );
  return { path, calls: async () => lines(await readFile(recordFile, 'utf8')).map((line) => JSON.parse(line) as Call) };
}

async function addOrders(stream: string, statuses: readonly string[]): Promise<string[]> {
  const ids: string[] = [];
  for (const [i, status] of statuses.entries()) {
    ids.push(await redis.server.cli('XADD', stream, '*', 'order_id', String(12345 + i), 'customer_id', '67890', 'amount', '99.99', 'status', status));
  }
  return ids;
}

/** Pending count and lag of a group, from XINFO GROUPS. */
async function groupState(stream: string, group: string): Promise<{ pending: number; lag: number }> {
  const groups = JSON.parse(await redis.server.cli('--json', 'XINFO', 'GROUPS', stream)) as Array<Record<string, unknown>>;
  const found = groups.find((g) => g.name === group);
  assert.ok(found, `group ${group} exists`);
  return { pending: Number(found.pending), lag: Number(found.lag) };
}

/** The `[id, consumer, idle, deliveries]` rows of XPENDING. */
async function pending(stream: string, group: string): Promise<Array<[string, string, number, number]>> {
  return JSON.parse(await redis.server.cli('--json', 'XPENDING', stream, group, '-', '+', '100')) as Array<[string, string, number, number]>;
}

test('consume --until-idle runs the handler once per event, as `tail` prints it, then exits 0 with a summary', async () => {
  const stream = `${uniquePrefix('consume')}events:orders`;
  const ids = await addOrders(stream, ['pending', 'paid', 'pending', 'shipped', 'paid']);
  const handler = await handlerModule('record(event, ctx);');
  // A path relative to the current folder, as a user types it.
  const path = relative(repoRoot, handler.path);
  const result = await runCli(['--redis', redis.server.url, 'consume', stream, '--group', 'billing', '--consumer', 'worker-1', '--from', '0', '--handler', path, '--until-idle', '--json']);
  assert.equal(result.code, 0, explain(result));
  assert.equal(result.stderr, '');

  const summary = JSON.parse(result.stdout) as Summary;
  assert.deepEqual({ ...summary, seconds: 0 }, {
    stream,
    group: 'billing',
    consumer: 'worker-1',
    processed: 5,
    failedAttempts: 0,
    retried: 0,
    deadLettered: 0,
    reclaimed: 0,
    seconds: 0,
    stoppedBy: 'idle',
  });
  assert.ok(summary.seconds > 0 && summary.seconds < 20, `seconds: ${summary.seconds}`);

  const calls = await handler.calls();
  assert.deepEqual(calls.map((c) => c.event.id).sort(), [...ids].sort());
  const first = calls.find((c) => c.event.id === ids[0]);
  assert.deepEqual(first, {
    event: { stream, id: ids[0], time: Number((ids[0] as string).split('-')[0]), fields: { order_id: '12345', customer_id: '67890', amount: '99.99', status: 'pending' } },
    ctx: { deliveryCount: 1, group: 'billing', consumer: 'worker-1' },
  });
  assert.deepEqual(await groupState(stream, 'billing'), { pending: 0, lag: 0 });

  // The group goes on from where it is: a second run handles only what was added since.
  const [added] = await addOrders(stream, ['new']);
  const again = await runCli(['--redis', redis.server.url, 'consume', stream, '--group', 'billing', '--handler', path, '--until-idle']);
  assert.equal(again.code, 0, explain(again));
  assert.match(
    again.stdout,
    new RegExp(`^processed 1 event from ${stream} \\(group billing, consumer [^)]+\\) in \\d+\\.\\d\\d s: 0 failed attempts, 0 retried, 0 dead-lettered, 0 reclaimed; the group is idle\\n$`),
  );
  assert.deepEqual((await handler.calls()).map((c) => c.event.id).slice(5), [added]);
});

test('consume --codec json gives the handler `data`; --from $ on a new group skips what is there', async () => {
  const stream = `${uniquePrefix('consume')}events:orders`;
  const id = await redis.server.cli('XADD', stream, '*', 'data', JSON.stringify({ order_id: '1', items: [{ sku: 'A1', qty: 2 }] }));
  const handler = await handlerModule('record(event, ctx);');
  const result = await runCli(['--redis', redis.server.url, 'consume', stream, '--group', 'rollup', '--from', '0', '--codec', 'json', '--handler', handler.path, '--until-idle']);
  assert.equal(result.code, 0, explain(result));
  const [call] = await handler.calls();
  assert.deepEqual(call?.event, { stream, id, time: Number(id.split('-')[0]), data: { order_id: '1', items: [{ sku: 'A1', qty: 2 }] } });

  const skipping = await handlerModule('record(event, ctx);');
  const fromNow = await runCli(['--redis', redis.server.url, 'consume', stream, '--group', 'from-now', '--handler', skipping.path, '--until-idle', '--json']);
  assert.equal(fromNow.code, 0, explain(fromNow));
  assert.equal((JSON.parse(fromNow.stdout) as Summary).processed, 0);
  assert.deepEqual(await skipping.calls(), []);
});

test('consume --since starts a new group that long ago: only the recent events are handled', async () => {
  const stream = `${uniquePrefix('consume')}events:orders`;
  const now = Date.now();
  const ids = [`${now - 7_200_000}-0`, `${now - 600_000}-0`, `${now - 60_000}-0`];
  for (const id of ids) await redis.server.cli('XADD', stream, id, 'order_id', id);
  const handler = await handlerModule('record(event, ctx);');
  const result = await runCli(['--redis', redis.server.url, 'consume', stream, '--group', 'recent', '--since', '1h', '--handler', handler.path, '--until-idle', '--json']);
  assert.equal(result.code, 0, explain(result));
  assert.equal((JSON.parse(result.stdout) as Summary).processed, 2);
  assert.deepEqual((await handler.calls()).map((c) => c.event.id), ids.slice(1));

  const both = await runCli(['--redis', redis.server.url, 'consume', stream, '--group', 'x', '--since', '1h', '--from', '0', '--handler', handler.path, '--until-idle']);
  assert.equal(both.code, 2, explain(both));
  assert.match(both.stderr, /--since.*cannot be used with.*--from/);
});

test('a failing handler: retried, then dead-lettered after --max-deliveries; the summary counts each step', async () => {
  const stream = `${uniquePrefix('consume')}events:orders`;
  const ids = await addOrders(stream, ['pending', 'broken', 'paid', 'broken', 'pending']);
  const handler = await handlerModule(`  record(event, ctx);
  if (event.fields.status === 'broken') throw new Error('order ' + event.fields.order_id + ' is broken');`);
  const result = await runCli([
    '--redis', redis.server.url, 'consume', stream, '--group', 'billing', '--from', '0', '--handler', handler.path,
    '--max-deliveries', '3', '--backoff', '10ms', '--until-idle', '--json',
  ]);
  assert.equal(result.code, 0, explain(result));
  // A handler's error is the runtime's business (retry, dead letter), not a CLI error.
  assert.equal(result.stderr, '');
  const summary = JSON.parse(result.stdout) as Summary;
  assert.deepEqual(
    [summary.processed, summary.failedAttempts, summary.retried, summary.deadLettered, summary.reclaimed],
    [3, 6, 4, 2, 0],
  );

  const calls = await handler.calls();
  const broken = [ids[1], ids[3]] as string[];
  for (const id of broken) assert.deepEqual(calls.filter((c) => c.event.id === id).map((c) => c.ctx.deliveryCount), [1, 2, 3]);
  assert.deepEqual(await groupState(stream, 'billing'), { pending: 0, lag: 0 });

  const list = await runCli(['--redis', redis.server.url, 'dlq', 'list', stream, '--json']);
  assert.equal(list.code, 0, explain(list));
  const letters = JSON.parse(list.stdout) as Array<{ originalId: string; group: string; reason: string; error: string; deliveryCount: number; fields: Record<string, string> }>;
  assert.deepEqual(
    letters.map((l) => [l.originalId, l.group, l.reason, l.error, l.deliveryCount, l.fields.status]).sort(),
    [
      [ids[1], 'billing', 'max-deliveries', 'order 12346 is broken', 3, 'broken'],
      [ids[3], 'billing', 'max-deliveries', 'order 12348 is broken', 3, 'broken'],
    ],
  );
});

test('ctx.deadLetter(reason) dead-letters at once, without retries', async () => {
  const stream = `${uniquePrefix('consume')}events:orders`;
  const [, bad] = await addOrders(stream, ['pending', 'malformed']);
  const handler = await handlerModule(`  if (event.fields.status === 'malformed') await ctx.deadLetter('malformed');`);
  const result = await runCli(['--redis', redis.server.url, 'consume', stream, '--group', 'billing', '--from', '0', '--handler', handler.path, '--until-idle', '--json']);
  assert.equal(result.code, 0, explain(result));
  const summary = JSON.parse(result.stdout) as Summary;
  assert.deepEqual([summary.processed, summary.failedAttempts, summary.deadLettered], [1, 0, 1]);
  const [letter] = JSON.parse((await runCli(['--redis', redis.server.url, 'dlq', 'list', stream, '--json'])).stdout) as Array<{ originalId: string; reason: string }>;
  assert.deepEqual([letter?.originalId, letter?.reason], [bad, 'malformed']);
});

test('--until-idle also waits for entries pending on another consumer: reclaimed after --claim-idle, then handled', async () => {
  const stream = `${uniquePrefix('consume')}events:orders`;
  await redis.server.cli('XGROUP', 'CREATE', stream, 'billing', '$', 'MKSTREAM');
  const held = await addOrders(stream, ['pending', 'pending']);
  // A consumer that read them and died.
  await redis.server.cli('XREADGROUP', 'GROUP', 'billing', 'dead-pod', 'COUNT', '2', 'STREAMS', stream, '>');
  const [fresh] = await addOrders(stream, ['paid']);
  const handler = await handlerModule('record(event, ctx);');
  const result = await runCli(['--redis', redis.server.url, 'consume', stream, '--group', 'billing', '--handler', handler.path, '--claim-idle', '200ms', '--until-idle', '--json']);
  assert.equal(result.code, 0, explain(result));
  const summary = JSON.parse(result.stdout) as Summary;
  assert.deepEqual([summary.processed, summary.reclaimed], [3, 2]);
  const calls = await handler.calls();
  assert.deepEqual(calls.map((c) => c.event.id).sort(), [...held, fresh].sort());
  // Reclaiming is a second delivery.
  assert.deepEqual(calls.filter((c) => held.includes(c.event.id)).map((c) => c.ctx.deliveryCount), [2, 2]);
  assert.deepEqual(await groupState(stream, 'billing'), { pending: 0, lag: 0 });
});

test('--rate-limit paces the handler starts of the group; a malformed rate is a usage error', async () => {
  const stream = `${uniquePrefix('consume')}events:orders`;
  await addOrders(stream, Array.from({ length: 12 }, () => 'pending'));
  // Each call records when it started, in place of the event's time.
  const handler = await handlerModule('record({ ...event, time: Date.now() }, ctx);');
  const result = await runCli(['--redis', redis.server.url, 'consume', stream, '--group', 'partner', '--from', '0', '--handler', handler.path, '--rate-limit', '4/400ms', '--until-idle', '--json']);
  assert.equal(result.code, 0, explain(result));
  assert.equal((JSON.parse(result.stdout) as Summary).processed, 12);
  const starts = (await handler.calls()).map((c) => c.event.time).sort((a, b) => a - b);
  assert.equal(starts.length, 12);
  // A burst of at most 4 (+1 held by the waiting read), then one every 100 ms: the other 7 or
  // more need at least 600 ms. Without the limit all 12 start within a few milliseconds.
  const span = (starts[11] as number) - (starts[0] as number);
  assert.ok(span >= 600, `12 starts at 4 per 400 ms took ${span} ms`);
  for (const [i, start] of starts.entries()) {
    const inWindow = starts.slice(i).filter((t) => t < start + 400).length;
    assert.ok(inWindow <= 9, `${inWindow} starts within 400 ms of the ${i + 1}th`);
  }

  const bad = await runCli(['--redis', redis.server.url, 'consume', stream, '--group', 'partner', '--handler', handler.path, '--rate-limit', '100']);
  assert.equal(bad.code, 2, explain(bad));
  assert.equal(bad.stderr, 'sluice: Expected `--rate-limit` to be a rate like 100/1s or 5/500ms (a whole number ≥ 1, a slash, a duration), got `100`\n');
});

test('a missing handler file, or a module without a default function, is a usage error (exit 2) before connecting', async () => {
  const stream = `${uniquePrefix('consume')}events:orders`;
  await addOrders(stream, ['pending']);
  const missing = await runCli(['--redis', redis.server.url, 'consume', stream, '--group', 'billing', '--handler', './no/such/handler.mjs']);
  assert.equal(missing.code, 2, explain(missing));
  assert.equal(missing.stdout, '');
  assert.match(missing.stderr, /^sluice: Cannot load `--handler` `\.\/no\/such\/handler\.mjs`: no such file \(expected a JavaScript module with a default-exported function like `export default async \(event, ctx\) => \{ … \}`\)\n$/);

  const noDefault = join(dir.path, 'no-default.mjs');
  await writeFile(noDefault, 'export function handle() {}\n');
  const result = await runCli(['--redis', redis.server.url, 'consume', stream, '--group', 'billing', '--handler', noDefault]);
  assert.equal(result.code, 2, explain(result));
  assert.equal(result.stderr, `sluice: Expected \`--handler\` \`${noDefault}\` to have a default-exported function like \`export default async (event, ctx) => { … }\`, got no default export\n`);

  const broken = join(dir.path, 'broken.mjs');
  await writeFile(broken, 'export default async (event => {\n');
  const syntax = await runCli(['--redis', redis.server.url, 'consume', stream, '--group', 'billing', '--handler', broken]);
  assert.equal(syntax.code, 2, explain(syntax));
  assert.match(syntax.stderr, /^sluice: Cannot load `--handler` `.*broken\.mjs`: SyntaxError: /);
  assert.equal(lines(syntax.stderr).length, 1);

  const noGroup = await runCli(['--redis', redis.server.url, 'consume', stream, '--handler', noDefault]);
  assert.equal(noGroup.code, 2, explain(noGroup));
  assert.equal(noGroup.stderr, "sluice: required option '--group <name>' not specified\n");
  // Nothing was done on the server: the group was never created.
  assert.equal(await redis.server.cli('XINFO', 'GROUPS', stream), '');
});

test('SIGTERM during a long consume closes gracefully: exit 0, the unfinished entries stay pending (not acked)', async () => {
  const stream = `${uniquePrefix('consume')}events:orders`;
  const ids = await addOrders(stream, ['pending', 'pending', 'pending', 'pending', 'pending']);
  // Starts, then waits until the worker gives up on it (close after --shutdown-timeout).
  const handler = await handlerModule(`  record(event, ctx);
  await new Promise((resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));`);
  const consume = spawnCli([
    '--redis', redis.server.url, 'consume', stream, '--group', 'billing', '--consumer', 'worker-1', '--from', '0', '--handler', handler.path,
    '--concurrency', '2', '--shutdown-timeout', '200ms', '--json',
  ]);
  try {
    await waitFor(async () => (await handler.calls()).length === 2, { message: () => `two handlers never started; stderr: ${consume.stderr()}` });
    consume.child.kill('SIGTERM');
    const result = await consume.exited;
    assert.equal(result.code, 0, explain(result));
    const summary = JSON.parse(result.stdout) as Summary;
    assert.deepEqual([summary.processed, summary.deadLettered, summary.stoppedBy], [0, 0, 'SIGTERM']);
    const started = (await handler.calls()).map((c) => c.event.id);
    assert.deepEqual(started.sort(), ids.slice(0, 2));
    const rows = await pending(stream, 'billing');
    assert.deepEqual(rows.map(([id, consumer, , deliveries]) => [id, consumer, deliveries]), [
      [ids[0], 'worker-1', 1],
      [ids[1], 'worker-1', 1],
    ]);
    // The rest was never delivered.
    assert.deepEqual(await groupState(stream, 'billing'), { pending: 2, lag: 3 });
  } finally {
    consume.child.kill('SIGKILL');
  }
});

test('SIGINT lets a running handler finish within --shutdown-timeout, and its entry is acknowledged', async () => {
  const stream = `${uniquePrefix('consume')}events:orders`;
  const [id] = await addOrders(stream, ['pending']);
  const release = join(dir.path, `release-${process.pid}-${Date.now()}`);
  // Finishes once the test creates the `release` file, after the signal was sent.
  const handler = await handlerModule(`  record(event, ctx);
  const { existsSync } = await import('node:fs');
  while (!existsSync(${JSON.stringify(release)})) await new Promise((resolve) => setTimeout(resolve, 10));`);
  const consume = spawnCli(['--redis', redis.server.url, 'consume', stream, '--group', 'billing', '--from', '0', '--handler', handler.path, '--shutdown-timeout', '10s']);
  try {
    await waitFor(async () => (await handler.calls()).length === 1, { message: () => `the handler never started; stderr: ${consume.stderr()}` });
    consume.child.kill('SIGINT');
    // Still closing: the handler holds it.
    await waitFor(async () => (await pending(stream, 'billing')).length === 1);
    assert.equal(consume.child.exitCode, null);
    await writeFile(release, '');
    const result = await consume.exited;
    assert.equal(result.code, 0, explain(result));
    assert.match(result.stdout, /^processed 1 event from .*; stopped by SIGINT\n$/);
    assert.deepEqual(await pending(stream, 'billing'), []);
    assert.deepEqual((await handler.calls()).map((c) => c.event.id), [id]);
  } finally {
    consume.child.kill('SIGKILL');
  }
});

test("the worker's errors go to stderr as one line each, and consuming goes on", async () => {
  const stream = `${uniquePrefix('consume')}events:orders`;
  const handler = await handlerModule('record(event, ctx);');
  const consume = spawnCli(['--redis', redis.server.url, 'consume', stream, '--group', 'billing', '--handler', handler.path]);
  try {
    await waitFor(async () => (await redis.server.cli('EXISTS', stream)) === '1', { message: () => `the group was never created; stderr: ${consume.stderr()}` });
    // Deleting the stream loses the group: the worker reports it, re-creates it, and carries on.
    await redis.server.cli('DEL', stream);
    await waitFor(() => /group billing was lost/.test(consume.stderr()), { message: () => `no error line; stderr: ${consume.stderr()}` });
    await waitFor(async () => (await redis.server.cli('EXISTS', stream)) === '1', { message: 'the group is re-created' });
    const [id] = await addOrders(stream, ['pending']);
    await waitFor(async () => (await handler.calls()).some((c) => c.event.id === id), { message: () => `the event was not handled; stderr: ${consume.stderr()}` });
    consume.child.kill('SIGTERM');
    const result = await consume.exited;
    assert.equal(result.code, 0, explain(result));
    for (const line of lines(result.stderr)) assert.match(line, /^sluice: billing\/\S+: /);
    assert.match(result.stderr, /^sluice: billing\/\S+: group billing was lost; re-creating it: .+$/m);
    assert.equal((await cliRange(redis.server, stream)).length, 1);
  } finally {
    consume.child.kill('SIGKILL');
  }
});
