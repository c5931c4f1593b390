import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useRedis } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/wait.js';
import { explain, lines, runCli, spawnCli } from './cli.js';

const redis = useRedis();

interface PrintedEvent {
  stream: string;
  id: string;
  time: number;
  fields?: Record<string, string>;
  data?: unknown;
  meta?: Record<string, string>;
}

const parseLines = (stdout: string) => lines(stdout).map((line) => JSON.parse(line) as PrintedEvent);

async function addOrders(stream: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    ids.push(await redis.server.cli('XADD', stream, '*', 'order_id', String(12345 + i), 'customer_id', '67890', 'amount', '99.99', 'status', 'pending'));
  }
  return ids;
}

test('tail --from 0 --count N prints N events, one JSON object per line, then exits', async () => {
  const stream = `${uniquePrefix('tail')}events:orders`;
  const ids = await addOrders(stream, 5);
  const result = await runCli(['--redis', redis.server.url, 'tail', stream, '--from', '0', '--count', '3']);
  assert.equal(result.code, 0, explain(result));
  assert.equal(result.stderr, '');
  const events = parseLines(result.stdout);
  assert.equal(events.length, 3);
  events.forEach((event, i) => {
    // Exactly the library's event object: no `meta` when the entry has none.
    assert.deepEqual(Object.keys(event), ['stream', 'id', 'time', 'fields']);
    assert.equal(event.stream, stream);
    assert.equal(event.id, ids[i]);
    assert.equal(event.time, Number((ids[i] as string).split('-')[0]));
    assert.deepEqual(event.fields, { order_id: String(12345 + i), customer_id: '67890', amount: '99.99', status: 'pending' });
  });
});

test('tail --from ID starts after that ID, and shows `$` fields as meta', async () => {
  const stream = `${uniquePrefix('tail')}events:orders`;
  const [first] = await addOrders(stream, 1);
  const withKey = await redis.server.cli('XADD', stream, '*', 'order_id', '2', '$key', 'customer-67890');
  const result = await runCli(['--redis', redis.server.url, 'tail', stream, '--from', first as string, '--count', '1']);
  assert.equal(result.code, 0, explain(result));
  const [event] = parseLines(result.stdout);
  assert.equal(event?.id, withKey);
  assert.deepEqual(event?.fields, { order_id: '2' });
  assert.deepEqual(event?.meta, { key: 'customer-67890' });
});

test('tail follows the stream: prints an event published after it started, and exits 0 on Ctrl-C', async () => {
  const stream = `${uniquePrefix('tail')}events:orders`;
  await addOrders(stream, 2); // already there: the default `--from $` skips them
  const tail = spawnCli(['--redis', redis.server.url, 'tail', stream, '--block', '200']);
  try {
    // Started means its XREAD is blocked on the server (the tail position is resolved by then).
    await waitFor(
      async () => {
        const clients = await redis.server.cli('CLIENT', 'LIST');
        return clients.split('\n').some((c) => c.includes(`name=sluice:`) && c.includes(`:${tail.child.pid} `) && / flags=b /.test(c));
      },
      { message: () => `tail never blocked on XREAD; stderr: ${tail.stderr()}` },
    );
    const id = await redis.server.cli('XADD', stream, '*', 'order_id', '99999', 'status', 'paid');
    await waitFor(() => tail.stdout().includes('\n'), { message: () => `nothing printed; stderr: ${tail.stderr()}` });
    const events = parseLines(tail.stdout());
    assert.equal(events.length, 1);
    assert.equal(events[0]?.id, id);
    assert.deepEqual(events[0]?.fields, { order_id: '99999', status: 'paid' });

    tail.child.kill('SIGINT');
    const result = await tail.exited;
    assert.equal(result.code, 0, explain(result));
    assert.equal(result.stderr, '');
  } finally {
    tail.child.kill('SIGKILL');
  }
});

test('range --from/--to by ISO time returns the events of that window, inclusive', async () => {
  const stream = `${uniquePrefix('range')}events:orders`;
  // Explicit IDs one minute apart, from 2023-11-14T22:13:20Z.
  const ids = ['1700000000000-0', '1700000060000-0', '1700000120000-0'];
  for (const [i, id] of ids.entries()) await redis.server.cli('XADD', stream, id, 'order_id', String(i), 'status', 'pending');

  const window = await runCli(['--redis', redis.server.url, 'range', stream, '--from', '2023-11-14T22:14:00Z', '--to', '2023-11-14T22:15:00Z']);
  assert.equal(window.code, 0, explain(window));
  assert.deepEqual(parseLines(window.stdout).map((e) => e.id), [ids[1]]);

  // `--to` is inclusive of its whole millisecond; --reverse is newest first.
  const inclusive = await runCli(['--redis', redis.server.url, 'range', stream, '--from', '2023-11-14T22:14:20Z', '--to', '2023-11-14T22:15:20.000Z', '--reverse']);
  assert.equal(inclusive.code, 0, explain(inclusive));
  assert.deepEqual(parseLines(inclusive.stdout).map((e) => e.id), [ids[2], ids[1]]);

  const counted = await runCli(['--redis', redis.server.url, 'range', stream, '--count', '2']);
  const events = parseLines(counted.stdout);
  assert.deepEqual(events.map((e) => e.id), ids.slice(0, 2));
  assert.deepEqual(events[0], { stream, id: ids[0], time: 1700000000000, fields: { order_id: '0', status: 'pending' } });
});

test('--codec json prints `data` instead of `fields`', async () => {
  const stream = `${uniquePrefix('range')}events:orders`;
  const id = await redis.server.cli('XADD', stream, '*', 'data', JSON.stringify({ order_id: '1', customer: { id: '67890' } }));
  const result = await runCli(['--redis', redis.server.url, 'range', stream, '--codec', 'json']);
  assert.equal(result.code, 0, explain(result));
  const [event] = parseLines(result.stdout);
  assert.deepEqual(event, { stream, id, time: Number(id.split('-')[0]), data: { order_id: '1', customer: { id: '67890' } } });
});

test('--since replays from that long ago: range and tail; a bare number, or --since with --from, is a usage error', async () => {
  const stream = `${uniquePrefix('since')}events:orders`;
  const now = Date.now();
  // Two hours, thirty minutes and one minute old.
  const ids = [`${now - 7_200_000}-0`, `${now - 1_800_000}-0`, `${now - 60_000}-0`];
  for (const [i, id] of ids.entries()) await redis.server.cli('XADD', stream, id, 'order_id', String(i));

  const range = await runCli(['--redis', redis.server.url, 'range', stream, '--since', '1h']);
  assert.equal(range.code, 0, explain(range));
  assert.deepEqual(parseLines(range.stdout).map((e) => e.id), ids.slice(1));

  const recent = await runCli(['--redis', redis.server.url, 'range', stream, '--since', '10m', '--reverse']);
  assert.deepEqual(parseLines(recent.stdout).map((e) => e.id), ids.slice(2));

  const tail = await runCli(['--redis', redis.server.url, 'tail', stream, '--since', '3h', '--count', '3']);
  assert.equal(tail.code, 0, explain(tail));
  assert.deepEqual(parseLines(tail.stdout).map((e) => e.id), ids);

  const bare = await runCli(['--redis', redis.server.url, 'range', stream, '--since', '15']);
  assert.equal(bare.code, 2, explain(bare));
  assert.match(bare.stderr, /Expected `--since` to be a duration with a unit, like 30s, 15m, 1h30m or 7d, got `15`/);
  assert.equal(bare.stdout, '');

  const both = await runCli(['--redis', redis.server.url, 'tail', stream, '--since', '1h', '--from', '0', '--count', '1']);
  assert.equal(both.code, 2, explain(both));
  assert.match(both.stderr, /--since.*cannot be used with.*--from/);
  assert.equal(both.stdout, '');
});
