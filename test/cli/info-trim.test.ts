import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useRedis } from '../helpers/fixtures.js';
import { explain, lines, runCli } from './cli.js';

const redis = useRedis();

async function addEntries(stream: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(await redis.server.cli('XADD', stream, '*', 'order_id', String(i), 'status', 'pending'));
  return ids;
}

test('info without a stream lists every stream: a table, or JSON with --json', async () => {
  const prefix = uniquePrefix('info');
  await addEntries(`${prefix}events:orders`, 3);
  await addEntries(`${prefix}events:payments`, 1);
  await redis.server.cli('XGROUP', 'CREATE', `${prefix}events:orders`, 'billing', '0');
  await redis.server.cli('SET', `${prefix}not-a-stream`, 'x');

  const result = await runCli(['--redis', redis.server.url, 'info']);
  assert.equal(result.code, 0, explain(result));
  const rows = lines(result.stdout);
  assert.match(rows[0] as string, /^STREAM\s+LENGTH\s+FIRST\s+LAST\s+MEMORY\s+GROUPS$/);
  const orders = rows.find((row) => row.startsWith(`${prefix}events:orders `));
  assert.ok(orders, result.stdout);
  assert.match(orders, /\s3\s+\d{4}-\d\d-\d\dT[\d:.]+Z\s+\d{4}-\d\d-\d\dT[\d:.]+Z\s+[\d.]+ (B|KiB|MiB)\s+1$/);
  assert.ok(rows.some((row) => row.startsWith(`${prefix}events:payments `)));
  assert.ok(!result.stdout.includes('not-a-stream'));

  const asJson = await runCli(['--redis', redis.server.url, 'info', '--json']);
  assert.equal(asJson.code, 0, explain(asJson));
  const infos = JSON.parse(asJson.stdout) as Array<{ stream: string; length: number; groups: unknown[] }>;
  const ordersInfo = infos.find((i) => i.stream === `${prefix}events:orders`);
  assert.equal(ordersInfo?.length, 3);
  assert.equal(ordersInfo?.groups.length, 1);
});

test('info <stream> shows groups with consumers, pending and lag (`?` when Redis cannot tell)', async () => {
  const stream = `${uniquePrefix('info')}events:orders`;
  const ids = await addEntries(stream, 3);
  await redis.server.cli('XGROUP', 'CREATE', stream, 'billing', '0');
  await redis.server.cli('XREADGROUP', 'GROUP', 'billing', 'worker-1', 'COUNT', '1', 'STREAMS', stream, '>');
  // A deletion after the group's position makes its lag unknown to Redis (null).
  await redis.server.cli('XDEL', stream, ids[1] as string);
  await redis.server.cli('XGROUP', 'CREATE', stream, 'analytics', '$');

  const result = await runCli(['--redis', redis.server.url, 'info', stream]);
  assert.equal(result.code, 0, explain(result));
  const out = result.stdout;
  assert.match(out, new RegExp(`^stream\\s+${stream}$`, 'm'));
  assert.match(out, /^length\s+2$/m);
  assert.match(out, /^groups\s+2$/m);
  assert.match(out, /^GROUP\s+CONSUMERS\s+PENDING\s+LAG\s+LAST DELIVERED\s+ENTRIES READ$/m);
  assert.match(out, new RegExp(`^billing\\s+1\\s+1\\s+\\?\\s+${ids[0]}\\s+1$`, 'm'));
  assert.match(out, /^analytics\s+0\s+0\s+0\s+/m);
  assert.match(out, /^billing\s+worker-1\s+1\s+\d/m);

  const asJson = await runCli(['--redis', redis.server.url, 'info', stream, '--json']);
  assert.equal(asJson.code, 0, explain(asJson));
  const info = JSON.parse(asJson.stdout) as {
    stream: string;
    exists: boolean;
    length: number;
    groups: Array<{ name: string; pending: number; lag: number | null; consumers: Array<{ name: string; pending: number }> }>;
  };
  assert.equal(info.stream, stream);
  assert.equal(info.exists, true);
  assert.equal(info.length, 2);
  const billing = info.groups.find((g) => g.name === 'billing');
  assert.equal(billing?.lag, null);
  assert.equal(billing?.pending, 1);
  assert.deepEqual(billing?.consumers.map((c) => [c.name, c.pending]), [['worker-1', 1]]);
  assert.equal(info.groups.find((g) => g.name === 'analytics')?.lag, 0);
});

test('info of a stream that does not exist says so', async () => {
  const stream = `${uniquePrefix('info')}events:none`;
  const result = await runCli(['--redis', redis.server.url, 'info', stream]);
  assert.equal(result.code, 0, explain(result));
  assert.equal(result.stdout.trim(), `stream ${stream} does not exist`);
});

test('trim --max-len N --exact removes the oldest entries and says how many', async () => {
  const stream = `${uniquePrefix('trim')}events:orders`;
  const ids = await addEntries(stream, 5);
  const result = await runCli(['--redis', redis.server.url, 'trim', stream, '--max-len', '2', '--exact']);
  assert.equal(result.code, 0, explain(result));
  assert.equal(result.stdout, `removed 3 entries from ${stream}\n`);
  assert.equal(await redis.server.cli('XLEN', stream), '2');
  assert.deepEqual(lines(await redis.server.cli('XRANGE', stream, '-', '+')).filter((l) => /^\d+-\d+$/.test(l)), ids.slice(3));
});

test('trim --max-age --exact --json removes the entries older than the duration', async () => {
  const stream = `${uniquePrefix('trim')}events:orders`;
  await redis.server.cli('XADD', stream, '1000-0', 'order_id', 'old-1');
  await redis.server.cli('XADD', stream, '2000-0', 'order_id', 'old-2');
  await addEntries(stream, 1);
  const result = await runCli(['--redis', redis.server.url, 'trim', stream, '--max-age', '7d', '--exact', '--json']);
  assert.equal(result.code, 0, explain(result));
  assert.deepEqual(JSON.parse(result.stdout), { stream, removed: 2 });
  assert.equal(await redis.server.cli('XLEN', stream), '1');
});

test('trim without --max-len or --max-age is a usage error (exit 2) and trims nothing', async () => {
  const stream = `${uniquePrefix('trim')}events:orders`;
  await addEntries(stream, 1);
  const result = await runCli(['--redis', redis.server.url, 'trim', stream]);
  assert.equal(result.code, 2, explain(result));
  assert.equal(result.stderr, 'sluice: Expected `--max-len N` or `--max-age DURATION` (or both), got neither\n');
  assert.equal(await redis.server.cli('XLEN', stream), '1');
});
