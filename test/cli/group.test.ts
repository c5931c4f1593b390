import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pairs } from '../../src/stream/stream-info.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useRedis } from '../helpers/fixtures.js';
import { explain, runCli } from './cli.js';

const redis = useRedis();

/** The group as XINFO GROUPS shows it, through redis-cli's RESP output. */
async function groupInfo(stream: string, group: string): Promise<Record<string, string>> {
  const lines = (await redis.server.cli('XINFO', 'GROUPS', stream)).split('\n');
  const info = pairs(lines);
  assert.equal(info.name, group, `the first group of ${stream} is ${group}`);
  return info as Record<string, string>;
}

test('group create, reset and delete: positions, the lag each time, JSON, and the refusals', async () => {
  const stream = `${uniquePrefix('group')}events:orders`;
  const now = Date.now();
  // Three hours, two hours and ten minutes old.
  const ids = [`${now - 10_800_000}-0`, `${now - 7_200_000}-0`, `${now - 600_000}-0`];
  for (const [i, id] of ids.entries()) await redis.server.cli('XADD', stream, id, 'order_id', String(i));
  const cli = (...args: string[]) => runCli(['--redis', redis.server.url, 'group', ...args]);

  const created = await cli('create', stream, '--group', 'billing', '--since', '150m');
  assert.equal(created.code, 0, explain(created));
  assert.match(created.stdout, new RegExp(`^created group billing on ${stream}, delivering the events after \\d+-\\d+: 2 events to deliver\\n$`));
  assert.equal((await groupInfo(stream, 'billing')).lag, '2');

  const exists = await cli('create', stream, '--group', 'billing', '--from', '0');
  assert.equal(exists.code, 0, explain(exists));
  assert.match(exists.stdout, /^group billing already exists on .* \(left as it is, after \d+-\d+\): 2 events to deliver\n$/);

  const skip = await cli('reset', stream, '--group', 'billing', '--to', '$', '--json');
  assert.equal(skip.code, 0, explain(skip));
  const { previousId, ...moved } = JSON.parse(skip.stdout);
  assert.deepEqual(moved, { stream, group: 'billing', lastDeliveredId: ids[2], lag: 0, pending: 0 });
  // Where --since 150m put it: just before the event of two hours ago.
  assert.ok(previousId > ids[0]! && previousId < ids[1]!, `${previousId} between ${ids[0]} and ${ids[1]}`);
  const replay = await cli('reset', stream, '--group', 'billing', '--to', ids[0] as string);
  assert.equal(replay.code, 0, explain(replay));
  assert.equal(replay.stdout, `moved group billing on ${stream} from ${ids[2]} to ${ids[0]}: 2 events to deliver\n`);
  assert.deepEqual([(await groupInfo(stream, 'billing'))['last-delivered-id'], (await groupInfo(stream, 'billing'))['entries-read']], [ids[0], '1']);

  // A consumer that just read counts as running; its pending entries stand in the way too.
  await redis.server.cli('XREADGROUP', 'GROUP', 'billing', 'worker-1', 'COUNT', '1', 'STREAMS', stream, '>');
  const refused = await cli('delete', stream, '--group', 'billing');
  assert.equal(refused.code, 1, explain(refused));
  assert.match(refused.stderr, /^sluice: Group `billing` of `.*` has a running consumer, `worker-1` \(active \d+ s ago\): stop the group's workers first/);
  assert.equal((await groupInfo(stream, 'billing')).pending, '1');
  const forced = await cli('delete', stream, '--group', 'billing', '--force');
  assert.equal(forced.code, 0, explain(forced));
  assert.equal(forced.stdout, `deleted group billing from ${stream} (1 pending entries forgotten)\n`);
  assert.equal(await redis.server.cli('XINFO', 'GROUPS', stream), '');

  for (const [args, code, message] of [
    [['reset', stream, '--group', 'billing', '--to', '0'], 1, /^sluice: Group `billing` does not exist on/],
    [['reset', stream, '--group', 'billing'], 2, /Expected `--to <position>` or `--since <duration>`/],
    [['reset', stream, '--group', 'billing', '--to', '0', '--since', '1h'], 2, /--since.*cannot be used with.*--to/],
    [['create', stream, '--group', 'has space'], 2, /Expected `--group` to be a non-empty name without spaces/],
    [['create', stream, '--group', 'x', '--from', 'yesterday'], 2, /got `yesterday`/],
    [['delete', `${stream}:missing`, '--group', 'x'], 1, /^sluice: Stream `.*:missing` does not exist/],
  ] as const) {
    const result = await cli(...args);
    assert.equal(result.code, code, `${args.join(' ')}: ${explain(result)}`);
    assert.match(result.stderr, message, args.join(' '));
    assert.equal(result.stdout, '', args.join(' '));
  }
});
