import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NonRetryableError } from '../../src/index.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useSluice } from '../helpers/sluice-fixture.js';
import { cliLength, cliRange } from '../helpers/streams.js';
import { waitFor } from '../helpers/wait.js';
import { explain, lines, runCli } from './cli.js';

const redis = useSluice();

async function addOrders(stream: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(await redis.server.cli('XADD', stream, '*', 'order_id', String(12345 + i), 'status', 'pending'));
  return ids;
}

/** What `sluice groups --json` prints. */
interface GroupsJson {
  stream: string;
  exists: boolean;
  groups: Array<{
    name: string;
    consumers: Array<{ name: string; pending: number }>;
    pending: number;
    lag: number | null;
    lastDeliveredId: string;
    oldestPending: { id: string; consumer: string; idleMs: number; deliveryCount: number } | null;
    mostDelivered: Array<{ id: string; consumer: string; deliveryCount: number }>;
    sampled: number;
  }>;
}

/** Idle time of a pending entry, as Redis reports it. */
async function idleOf(stream: string, group: string, id: string): Promise<number> {
  const rows = JSON.parse(await redis.server.cli('--json', 'XPENDING', stream, group, id, id, '1')) as Array<[string, string, number, number]>;
  return Number(rows[0]?.[2] ?? -1);
}

test('groups shows each group: consumers, pending, lag, last delivered, oldest pending age and most delivered entries', async () => {
  const stream = `${uniquePrefix('groups')}events:orders`;
  const ids = await addOrders(stream, 6);
  await redis.server.cli('XGROUP', 'CREATE', stream, 'billing', '0');
  // worker-1 takes three entries, worker-2 one; worker-1 then reads its pending entries again
  // (ID 0), twice for the first: deliveries 3, 2, 2 and 1.
  await redis.server.cli('XREADGROUP', 'GROUP', 'billing', 'worker-1', 'COUNT', '3', 'STREAMS', stream, '>');
  await redis.server.cli('XREADGROUP', 'GROUP', 'billing', 'worker-2', 'COUNT', '1', 'STREAMS', stream, '>');
  await redis.server.cli('XREADGROUP', 'GROUP', 'billing', 'worker-1', 'STREAMS', stream, '0');
  await redis.server.cli('XREADGROUP', 'GROUP', 'billing', 'worker-1', 'COUNT', '1', 'STREAMS', stream, '0');
  await redis.server.cli('XGROUP', 'CREATE', stream, 'analytics', '$');
  await waitFor(async () => (await idleOf(stream, 'billing', ids[0] as string)) >= 100, { message: 'the oldest entry idles 100 ms' });

  const asJson = await runCli(['--redis', redis.server.url, 'groups', stream, '--json']);
  assert.equal(asJson.code, 0, explain(asJson));
  const report = JSON.parse(asJson.stdout) as GroupsJson;
  assert.equal(report.stream, stream);
  assert.equal(report.exists, true);
  const billing = report.groups.find((g) => g.name === 'billing');
  assert.ok(billing, asJson.stdout);
  assert.deepEqual(billing.consumers.map((c) => [c.name, c.pending]), [['worker-1', 3], ['worker-2', 1]]);
  assert.deepEqual([billing.pending, billing.lag, billing.lastDeliveredId, billing.sampled], [4, 2, ids[3], 4]);
  assert.deepEqual({ ...billing.oldestPending, idleMs: 0 }, { id: ids[0], consumer: 'worker-1', idleMs: 0, deliveryCount: 3 });
  assert.ok((billing.oldestPending?.idleMs ?? 0) >= 100, `oldest pending idle ${billing.oldestPending?.idleMs} ms`);
  assert.deepEqual(billing.mostDelivered.map((e) => [e.id, e.consumer, e.deliveryCount]), [
    [ids[0], 'worker-1', 3],
    [ids[1], 'worker-1', 2],
    [ids[2], 'worker-1', 2],
  ]);
  const analytics = report.groups.find((g) => g.name === 'analytics');
  assert.deepEqual(analytics && [analytics.consumers, analytics.pending, analytics.lag, analytics.oldestPending, analytics.mostDelivered], [[], 0, 0, null, []]);

  const text = await runCli(['--redis', redis.server.url, 'groups', stream]);
  assert.equal(text.code, 0, explain(text));
  const out = text.stdout;
  assert.match(out, /^GROUP\s+CONSUMERS\s+PENDING\s+LAG\s+LAST DELIVERED\s+OLDEST PENDING\s+MAX DELIVERIES$/m);
  assert.match(out, new RegExp(`^billing\\s+2\\s+4\\s+2\\s+${ids[3]}\\s+\\d+(ms|\\.\\d+s)\\s+3$`, 'm'));
  assert.match(out, new RegExp(`^analytics\\s+0\\s+0\\s+0\\s+${ids[5]}\\s+-\\s+-$`, 'm'));
  assert.match(out, /^GROUP\s+CONSUMER\s+PENDING\s+IDLE\s+INACTIVE$/m);
  assert.match(out, /^billing\s+worker-1\s+3\s+\d/m);
  assert.match(out, /^billing\s+worker-2\s+1\s+\d/m);
  assert.match(out, /^GROUP\s+PENDING ENTRY\s+ID\s+CONSUMER\s+DELIVERIES\s+IDLE$/m);
  assert.match(out, new RegExp(`^billing\\s+oldest\\s+${ids[0]}\\s+worker-1\\s+3\\s+\\d`, 'm'));
  assert.match(out, new RegExp(`^billing\\s+most delivered\\s+${ids[1]}\\s+worker-1\\s+2\\s+\\d`, 'm'));
  assert.ok(!out.includes(ids[3] as string + '  worker-2'), 'an entry delivered once is not among the most delivered');
});

test('groups of a stream without groups says so; of a missing stream, exit 1 with a clear message', async () => {
  const stream = `${uniquePrefix('groups')}events:orders`;
  await addOrders(stream, 1);
  const none = await runCli(['--redis', redis.server.url, 'groups', stream]);
  assert.equal(none.code, 0, explain(none));
  assert.equal(none.stdout, `stream ${stream} has no consumer groups\n`);
  const noneJson = await runCli(['--redis', redis.server.url, 'groups', stream, '--json']);
  assert.deepEqual(JSON.parse(noneJson.stdout), { stream, exists: true, groups: [] });

  const missing = `${uniquePrefix('groups')}events:nothing`;
  const result = await runCli(['--redis', redis.server.url, 'groups', missing]);
  assert.equal(result.code, 1, explain(result));
  assert.equal(result.stdout, '');
  assert.equal(result.stderr, `sluice: Stream \`${missing}\` does not exist: check its name with \`sluice info\`\n`);
});

/** Dead-letters one event per order through a worker of the library, then stops it. */
async function deadLetters(count: number): Promise<{ stream: string; ids: string[]; letters: DeadLetterJson[] }> {
  const stream = `${uniquePrefix('dlq')}events:orders`;
  const ids = await addOrders(stream, count);
  const worker = redis.sluice.stream(stream).consume({ group: 'billing', startFrom: '0', block: 50 }, (event) => {
    throw new NonRetryableError(`order ${event.fields.order_id} is malformed: the amount is missing`);
  });
  try {
    await waitFor(async () => (await cliLength(redis.server, `{${stream}}:dlq`)) === count, { message: `${count} dead letters` });
  } finally {
    await worker.close();
  }
  const list = await runCli(['--redis', redis.server.url, 'dlq', 'list', stream, '--json']);
  assert.equal(list.code, 0, explain(list));
  return { stream, ids, letters: JSON.parse(list.stdout) as DeadLetterJson[] };
}

interface DeadLetterJson {
  id: string;
  time: number;
  originalId: string;
  stream: string;
  group: string;
  consumer: string;
  reason: string;
  error: string;
  deliveryCount: number | null;
  fields: Record<string, string>;
}

test('dlq list: a table (error cut to fit), JSON with --json, at most --count', async () => {
  const { stream, ids, letters } = await deadLetters(3);
  assert.equal(letters.length, 3);
  const byOriginal = new Map(letters.map((l) => [l.originalId, l]));
  assert.deepEqual([...byOriginal.keys()].sort(), [...ids].sort());
  const first = byOriginal.get(ids[0] as string) as DeadLetterJson;
  assert.deepEqual(
    { ...first, id: '', time: 0, consumer: '' },
    {
      id: '',
      time: 0,
      originalId: ids[0],
      stream,
      group: 'billing',
      consumer: '',
      reason: 'non-retryable',
      error: 'order 12345 is malformed: the amount is missing',
      deliveryCount: 1,
      fields: { order_id: '12345', status: 'pending' },
    },
  );

  const text = await runCli(['--redis', redis.server.url, 'dlq', 'list', stream]);
  assert.equal(text.code, 0, explain(text));
  const rows = lines(text.stdout);
  assert.match(rows[0] as string, /^ID\s+TIME\s+ORIGINAL ID\s+GROUP\s+REASON\s+DELIVERIES\s+ERROR\s+FIELDS$/);
  assert.equal(rows.length, 4);
  const row = rows.find((r) => r.startsWith(`${first.id} `));
  assert.ok(row, text.stdout);
  assert.match(
    row,
    new RegExp(`^${first.id}\\s+\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\s+${ids[0]}\\s+billing\\s+non-retryable\\s+1\\s+order 12345 is malformed: the amount is…\\s+order_id=12345 status=pending$`),
  );

  const one = await runCli(['--redis', redis.server.url, 'dlq', 'list', stream, '--count', '1', '--json']);
  assert.deepEqual((JSON.parse(one.stdout) as DeadLetterJson[]).map((l) => l.id), [letters[0]?.id]);

  const empty = await runCli(['--redis', redis.server.url, 'dlq', 'list', `${uniquePrefix('dlq')}events:none`]);
  assert.equal(empty.code, 0, explain(empty));
  assert.match(empty.stdout, /^no dead letters in \{.*events:none\}:dlq\n$/);
});

test('dlq redrive --id puts those events back in the stream (fields plus $redriven) and removes them from the DLQ; --all the rest', async () => {
  const { stream, ids, letters } = await deadLetters(3);
  const original = new Map(letters.map((l) => [l.id, l.originalId]));
  const [a, b, c] = letters.map((l) => l.id) as [string, string, string];

  const result = await runCli(['--redis', redis.server.url, 'dlq', 'redrive', stream, '--id', a, c]);
  assert.equal(result.code, 0, explain(result));
  const [head, ...moves] = lines(result.stdout);
  assert.equal(head, `redriven 2 events to ${stream}:`);
  const newIds = new Map(moves.map((line) => line.split(' -> ') as [string, string]));
  assert.deepEqual([...newIds.keys()], [a, c]);
  const entries = await cliRange(redis.server, stream);
  assert.equal(entries.length, 5);
  for (const dlqId of [a, c]) {
    const entry = entries.find(([id]) => id === newIds.get(dlqId));
    const orderId = String(12345 + ids.indexOf(original.get(dlqId) as string));
    assert.deepEqual(entry?.[1], ['order_id', orderId, 'status', 'pending', '$redriven', original.get(dlqId)]);
  }
  const left = JSON.parse((await runCli(['--redis', redis.server.url, 'dlq', 'list', stream, '--json'])).stdout) as DeadLetterJson[];
  assert.deepEqual(left.map((l) => l.id), [b]);

  // An ID no longer there: what could be redriven is, and the exit code says the rest was not.
  const again = await runCli(['--redis', redis.server.url, 'dlq', 'redrive', stream, '--id', a]);
  assert.equal(again.code, 1, explain(again));
  assert.equal(again.stdout, `redriven 0 events to ${stream}\n`);
  assert.equal(again.stderr, `sluice: 1 of the IDs is not in {${stream}}:dlq (already redriven or purged? see \`sluice dlq list ${stream}\`): ${a}\n`);

  const all = await runCli(['--redis', redis.server.url, 'dlq', 'redrive', stream, '--all', '--json']);
  assert.equal(all.code, 0, explain(all));
  const moved = JSON.parse(all.stdout) as { stream: string; redriven: number; events: Array<{ deadLetterId: string; id: string }>; notFound: string[] };
  assert.deepEqual([moved.stream, moved.redriven, moved.events.map((e) => e.deadLetterId), moved.notFound], [stream, 1, [b], []]);
  const last = (await cliRange(redis.server, stream)).at(-1);
  assert.deepEqual(last, [moved.events[0]?.id, ['order_id', String(12345 + ids.indexOf(original.get(b) as string)), 'status', 'pending', '$redriven', original.get(b)]]);
  assert.equal(await cliLength(redis.server, `{${stream}}:dlq`), 0);
});

test('dlq redrive needs exactly one of --id and --all (exit 2, nothing moved)', async () => {
  const { stream, letters } = await deadLetters(1);
  const neither = await runCli(['--redis', redis.server.url, 'dlq', 'redrive', stream]);
  assert.equal(neither.code, 2, explain(neither));
  assert.equal(neither.stderr, 'sluice: Expected `--id ID…` (the dead letters to redrive) or `--all`, got neither\n');
  const both = await runCli(['--redis', redis.server.url, 'dlq', 'redrive', stream, '--all', '--id', letters[0]?.id as string]);
  assert.equal(both.code, 2, explain(both));
  assert.equal(both.stderr, 'sluice: Expected either `--id ID…` or `--all`, got both\n');
  const bad = await runCli(['--redis', redis.server.url, 'dlq', 'redrive', stream, '--id', 'latest']);
  assert.equal(bad.code, 2, explain(bad));
  assert.equal(bad.stderr, 'sluice: Expected `--id` to be a stream ID like 1692632086370-0, got `latest`\n');
  assert.equal(await cliLength(redis.server, `{${stream}}:dlq`), 1);
  assert.equal(await cliLength(redis.server, stream), 1);
});

test('dlq purge removes every dead letter and says how many', async () => {
  const { stream } = await deadLetters(2);
  const result = await runCli(['--redis', redis.server.url, 'dlq', 'purge', stream]);
  assert.equal(result.code, 0, explain(result));
  assert.equal(result.stdout, `removed 2 dead letters from {${stream}}:dlq\n`);
  assert.equal(await redis.server.cli('EXISTS', `{${stream}}:dlq`), '0');
  // The stream itself is untouched.
  assert.equal(await cliLength(redis.server, stream), 2);

  const again = await runCli(['--redis', redis.server.url, 'dlq', 'purge', stream, '--json']);
  assert.equal(again.code, 0, explain(again));
  assert.deepEqual(JSON.parse(again.stdout), { stream, deadLetters: `{${stream}}:dlq`, removed: 0 });
});

test('--help lists the consumer-group commands', async () => {
  const help = await runCli(['--help']);
  assert.equal(help.code, 0, explain(help));
  for (const command of ['consume', 'groups', 'dlq']) assert.match(help.stdout, new RegExp(`^  ${command} `, 'm'));
  const dlq = await runCli(['dlq', '--help']);
  assert.equal(dlq.code, 0, explain(dlq));
  for (const command of ['list', 'redrive', 'purge']) assert.match(dlq.stdout, new RegExp(`^  ${command} `, 'm'));
});
