import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useRedis, useTempDir } from '../helpers/fixtures.js';
import { explain, lines, runCli } from './cli.js';

const redis = useRedis();
const dir = useTempDir('sluice-cli-publish-');

const order = (i: number) => ({ order_id: String(12345 + i), customer_id: '67890', amount: '99.99', status: 'pending' });
const jsonl = (count: number) => Array.from({ length: count }, (_, i) => JSON.stringify(order(i))).join('\n') + '\n';
const SUMMARY = /^published ([\d,]+) events? to (\S+) in \d+\.\d{2} s \(([\d,]+) events\/s\)$/;

test('publish field=value prints the ID, and XRANGE shows exactly those fields', async () => {
  const stream = `${uniquePrefix('publish')}events:orders`;
  const result = await runCli(['--redis', redis.server.url, 'publish', stream, 'order_id=12345', 'customer_id=67890', 'amount=99.99', 'status=pending']);
  assert.equal(result.code, 0, explain(result));
  assert.equal(result.stderr, '');
  const id = result.stdout.trim();
  assert.match(id, /^\d+-\d+$/);
  assert.deepEqual(lines(await redis.server.cli('XRANGE', stream, id, id)), [
    id,
    'order_id', '12345',
    'customer_id', '67890',
    'amount', '99.99',
    'status', 'pending',
  ]);
});

test('publish --key, --type and exact --max-len: $key/$type fields, and the stream kept at N entries', async () => {
  const stream = `${uniquePrefix('publish')}events:orders`;
  for (let i = 0; i < 3; i++) {
    const args = ['--redis', redis.server.url, 'publish', stream, '--max-len', '2', '--exact', '--key', 'customer-67890', '--type', 'order.created', `order_id=${i}`, 'note=a=b'];
    const result = await runCli(args);
    assert.equal(result.code, 0, explain(result));
  }
  assert.equal(await redis.server.cli('XLEN', stream), '2');
  const last = lines(await redis.server.cli('XREVRANGE', stream, '+', '-', 'COUNT', '1'));
  // The value keeps everything after the first `=`; metadata follows the fields.
  assert.deepEqual(last.slice(1), ['order_id', '2', 'note', 'a=b', '$key', 'customer-67890', '$type', 'order.created']);
});

test('publish --file publishes every line of a JSONL file and prints a summary (or JSON with --json)', async () => {
  const stream = `${uniquePrefix('publish')}events:orders`;
  const file = join(dir.path, 'orders.jsonl');
  await writeFile(file, jsonl(500));

  const result = await runCli(['--redis', redis.server.url, 'publish', stream, '--file', file]);
  assert.equal(result.code, 0, explain(result));
  const summary = SUMMARY.exec(result.stdout.trim());
  assert.ok(summary, `unexpected summary: ${result.stdout}`);
  assert.equal(summary[1], '500');
  assert.equal(summary[2], stream);
  assert.equal(await redis.server.cli('XLEN', stream), '500');
  // In file order, each line exactly its fields.
  const first = lines(await redis.server.cli('XRANGE', stream, '-', '+', 'COUNT', '1'));
  assert.deepEqual(first.slice(1), ['order_id', '12345', 'customer_id', '67890', 'amount', '99.99', 'status', 'pending']);
  const lastEntry = lines(await redis.server.cli('XREVRANGE', stream, '+', '-', 'COUNT', '1'));
  assert.deepEqual(lastEntry.slice(1, 3), ['order_id', String(12345 + 499)]);

  const asJson = await runCli(['--redis', redis.server.url, 'publish', `${stream}:json`, '--file', file, '--json']);
  assert.equal(asJson.code, 0, explain(asJson));
  const parsed = JSON.parse(asJson.stdout) as Record<string, unknown>;
  assert.deepEqual(Object.keys(parsed), ['published', 'seconds', 'eventsPerSecond']);
  assert.equal(parsed.published, 500);
  assert.equal(typeof parsed.seconds, 'number');
  assert.equal(typeof parsed.eventsPerSecond, 'number');
  assert.equal(await redis.server.cli('XLEN', `${stream}:json`), '500');
});

test('publish --file - reads JSON lines from stdin (blank lines skipped)', async () => {
  const stream = `${uniquePrefix('publish')}events:orders`;
  const input = `${jsonl(3)}\n${JSON.stringify({ order_id: 'x', amount: 12.5, paid: true })}\n`;
  const result = await runCli(['--redis', redis.server.url, 'publish', stream, '--file', '-'], { input });
  assert.equal(result.code, 0, explain(result));
  assert.match(result.stdout.trim(), SUMMARY);
  assert.equal(await redis.server.cli('XLEN', stream), '4');
  const last = lines(await redis.server.cli('XREVRANGE', stream, '+', '-', 'COUNT', '1'));
  assert.deepEqual(last.slice(1), ['order_id', 'x', 'amount', '12.5', 'paid', 'true']);
});

test('a bad line exits 2 naming the line number, and the events before it stay published', async () => {
  const stream = `${uniquePrefix('publish')}events:orders`;
  const file = join(dir.path, 'nested.jsonl');
  // Line 4 is blank; line 5 has a nested value, which the default fields codec cannot store.
  await writeFile(file, `${jsonl(3)}\n${JSON.stringify({ order_id: '1', customer: { id: '67890' } })}\n${JSON.stringify(order(9))}\n`);
  const nested = await runCli(['--redis', redis.server.url, 'publish', stream, '--file', file]);
  assert.equal(nested.code, 2, explain(nested));
  assert.equal(nested.stdout, '');
  assert.equal(lines(nested.stderr).length, 1, nested.stderr);
  assert.match(nested.stderr, /^sluice: Line 5 of .*nested\.jsonl: .*`customer`.*; 3 events before it were published\n$/);
  assert.equal(await redis.server.cli('XLEN', stream), '3');

  const invalid = await runCli(['--redis', redis.server.url, 'publish', `${stream}:stdin`, '--file', '-'], { input: `${jsonl(1)}{"order_id": \n${jsonl(1)}` });
  assert.equal(invalid.code, 2, explain(invalid));
  assert.match(invalid.stderr, /^sluice: Line 2 of stdin: expected a JSON object, got invalid JSON .*; 1 event before it was published\n$/);
  assert.equal(await redis.server.cli('XLEN', `${stream}:stdin`), '1');

  const notObject = await runCli(['--redis', redis.server.url, 'publish', `${stream}:array`, '--file', '-'], { input: '["order_id", "1"]\n' });
  assert.equal(notObject.code, 2, explain(notObject));
  assert.match(notObject.stderr, /^sluice: Line 1 of stdin: expected a JSON object .*got an array; 0 events before it were published\n$/);
});

test('--codec json stores nested lines as one data field', async () => {
  const stream = `${uniquePrefix('publish')}events:orders`;
  const event = { order_id: '1', customer: { id: '67890' }, items: [1, 2] };
  const result = await runCli(['--redis', redis.server.url, 'publish', stream, '--codec', 'json', '--file', '-'], { input: `${JSON.stringify(event)}\n` });
  assert.equal(result.code, 0, explain(result));
  const entry = lines(await redis.server.cli('XRANGE', stream, '-', '+'));
  assert.equal(entry[1], 'data');
  assert.deepEqual(JSON.parse(entry[2] as string), event);
});

test('a publish that Redis refuses exits 1 naming the line (WRONGTYPE: the key is not a stream)', async () => {
  const key = `${uniquePrefix('publish')}not-a-stream`;
  await redis.server.cli('SET', key, 'x');
  const result = await runCli(['--redis', redis.server.url, 'publish', key, '--file', '-'], { input: jsonl(3) });
  assert.equal(result.code, 1, explain(result));
  assert.equal(lines(result.stderr).length, 1, result.stderr);
  assert.match(result.stderr, /^sluice: Publishing line 1 of stdin failed: .*WRONGTYPE.*; 0 events were published\n$/);
});
