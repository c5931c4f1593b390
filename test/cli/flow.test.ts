import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { uniquePrefix, type RedisServer } from '../helpers/redis-server.js';
import { useRedis, useTempDir } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/wait.js';
import { explain, lines, runCli, spawnCli } from './cli.js';

/** AOF on, fsynced every second: the managed server's settings. */
const redis = useRedis({ appendonly: true, appendfsync: 'everysec' });
/** AOF on, fsynced at every write: `--durable fsync` works there even without WAITAOF. */
const fsyncAlways = useRedis({ appendonly: true, appendfsync: 'always' });
const dir = useTempDir('sluice-cli-flow-');

async function addEntries(server: RedisServer, stream: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push(await server.cli('XADD', stream, '*', 'order_id', String(i), 'status', 'pending'));
  return ids;
}

/** A group `billing` that was delivered the first `delivered` entries and acknowledged the first `acked`. */
async function billingGroup(stream: string, ids: readonly string[], delivered: number, acked: number): Promise<void> {
  await redis.server.cli('XGROUP', 'CREATE', stream, 'billing', '0');
  if (delivered > 0) await redis.server.cli('XREADGROUP', 'GROUP', 'billing', 'worker-1', 'COUNT', String(delivered), 'STREAMS', stream, '>');
  if (acked > 0) await redis.server.cli('XACK', stream, 'billing', ...ids.slice(0, acked));
}

async function hasWaitAof(server: RedisServer): Promise<boolean> {
  return (await server.cli('COMMAND', 'INFO', 'WAITAOF')).trim() !== '';
}

describe('publish with producer guarantees', () => {
  test('--idempotency-key: the same key twice prints the same ID and writes one entry, with $idk', async () => {
    const stream = `${uniquePrefix('flow')}events:orders`;
    const args = ['--redis', redis.server.url, 'publish', stream, '--idempotency-key', 'order-12345-created', 'order_id=12345', 'status=pending'];
    const first = await runCli(args);
    assert.equal(first.code, 0, explain(first));
    const again = await runCli([...args.slice(0, -2), 'order_id=12345', 'status=paid', '--json']);
    assert.equal(again.code, 0, explain(again));
    const id = first.stdout.trim();
    assert.match(id, /^\d+-\d+$/);
    assert.deepEqual(JSON.parse(again.stdout), { stream, id });
    assert.equal(await redis.server.cli('XLEN', stream), '1');
    assert.deepEqual(lines(await redis.server.cli('XRANGE', stream, '-', '+')).slice(1), ['order_id', '12345', 'status', 'pending', '$idk', 'order-12345-created']);
  });

  test('--file with --idempotency-field: one entry per distinct key, and publishing the file again writes nothing', async () => {
    const stream = `${uniquePrefix('flow')}events:orders`;
    const file = join(dir.path, 'orders-with-repeats.jsonl');
    const orders = ['12345', '12346', '12345', '12347', '12346'].map((id, i) => JSON.stringify({ order_id: id, line: i + 1 }));
    await writeFile(file, `${orders.join('\n')}\n`);
    const args = ['--redis', redis.server.url, 'publish', stream, '--file', file, '--idempotency-field', 'order_id'];
    const first = await runCli(args);
    assert.equal(first.code, 0, explain(first));
    assert.equal(await redis.server.cli('XLEN', stream), '3');
    // The first line of each order wins.
    const entries = lines(await redis.server.cli('XRANGE', stream, '-', '+')).filter((l) => !/^\d+-\d+$/.test(l));
    assert.deepEqual(entries.filter((_, i) => i % 6 === 3), ['1', '2', '4']);
    const again = await runCli(args);
    assert.equal(again.code, 0, explain(again));
    assert.equal(await redis.server.cli('XLEN', stream), '3');
  });

  test('--durable fsync on an appendfsync everysec server: exit 1 naming appendfsync, nothing written (WAITAOF servers confirm instead)', async () => {
    const stream = `${uniquePrefix('flow')}events:orders`;
    const result = await runCli(['--redis', redis.server.url, 'publish', stream, '--durable', 'fsync', 'order_id=12345']);
    if (await hasWaitAof(redis.server)) {
      // Redis 7.2+: WAITAOF waits for the next fsync of the AOF (within a second with everysec).
      assert.equal(result.code, 0, explain(result));
      assert.equal(await redis.server.cli('XLEN', stream), '1');
      return;
    }
    assert.equal(result.code, 1, explain(result));
    assert.equal(result.stdout, '');
    assert.equal(lines(result.stderr).length, 1, result.stderr);
    assert.match(result.stderr, /^sluice: Durability `fsync` needs .*appendfsync everysec\b.*CONFIG SET appendfsync always/);
    assert.equal(await redis.server.cli('EXISTS', stream), '0');
  });

  test('--durable fsync on an appendonly yes, appendfsync always server: published', async () => {
    const stream = `${uniquePrefix('flow')}events:orders`;
    const result = await runCli(['--redis', fsyncAlways.server.url, 'publish', stream, '--durable', 'fsync', 'order_id=12345']);
    assert.equal(result.code, 0, explain(result));
    assert.match(result.stdout.trim(), /^\d+-\d+$/);
    assert.equal(await fsyncAlways.server.cli('XLEN', stream), '1');
  });

  test('--max-lag with a lagging group and --on-limit reject: exit 1 with the backpressure message, nothing written', async () => {
    const stream = `${uniquePrefix('flow')}events:orders`;
    const ids = await addEntries(redis.server, stream, 5);
    await billingGroup(stream, ids, 2, 2); // 3 entries not yet delivered
    await redis.server.cli('XGROUP', 'CREATE', stream, 'analytics', '$');
    const publish = (...extra: string[]) => runCli(['--redis', redis.server.url, 'publish', stream, '--max-lag', '2', '--on-limit', 'reject', ...extra, 'order_id=99']);

    const refused = await publish();
    assert.equal(refused.code, 1, explain(refused));
    assert.equal(refused.stderr, `sluice: group billing lags 3 entries behind ${stream} (limit 2): publishing is refused until consumers catch up\n`);
    assert.equal(await redis.server.cli('XLEN', stream), '5');

    // The same limit over the groups that keep up only.
    const others = await publish('--max-lag-groups', 'analytics');
    assert.equal(others.code, 0, explain(others));
    assert.equal(await redis.server.cli('XLEN', stream), '6');

    // --file stops at the first refused line, and says so.
    const file = join(dir.path, 'two-orders.jsonl');
    await writeFile(file, '{"order_id":"1"}\n{"order_id":"2"}\n');
    const fromFile = await runCli(['--redis', redis.server.url, 'publish', stream, '--file', file, '--max-lag', '2', '--on-limit', 'reject']);
    assert.equal(fromFile.code, 1, explain(fromFile));
    assert.match(fromFile.stderr, /^sluice: Publishing line 1 of .*two-orders\.jsonl failed: group billing lags 4 entries behind .*; 0 events were published\n$/);
    assert.equal(await redis.server.cli('XLEN', stream), '6');
  });

  test('conflicting or incomplete flags are usage errors (exit 2), checked before connecting', async () => {
    const stream = `${uniquePrefix('flow')}events:orders`;
    const cases: [string[], RegExp][] = [
      [['--file', 'orders.jsonl', '--idempotency-key', 'k'], /^sluice: Expected `--idempotency-field NAME` with `--file`/],
      [['--idempotency-key', 'k', '--idempotency-field', 'order_id', 'order_id=1'], /^sluice: Expected either `--idempotency-key KEY` or `--idempotency-field NAME`, got both/],
      [['--idempotency-field', 'customer_id', 'order_id=1'], /^sluice: The event has no field `customer_id`/],
      [['--on-limit', 'reject', 'order_id=1'], /^sluice: Expected `--on-limit` to come with `--max-lag N`/],
      [['--max-lag-groups', 'billing', 'order_id=1'], /^sluice: Expected `--max-lag-groups` to come with `--max-lag N`/],
      [['--max-lag', 'many', 'order_id=1'], /^sluice: Expected `--max-lag` to be a whole number ≥ 0, got `many`/],
      [['--durable', 'replicas:0', 'order_id=1'], /^sluice: Expected `--durable` to be `fsync` .*`replicas:N`.* or `none`, got `replicas:0`/],
      [['--on-limit', 'wait', '--max-lag', '1', 'order_id=1'], /^sluice: option '--on-limit <mode>' argument 'wait' is invalid/],
    ];
    // Port 1 refuses connections: a usage error must be reported before any attempt.
    for (const [args, message] of cases) {
      const result = await runCli(['--redis', 'redis://127.0.0.1:1', 'publish', stream, ...args]);
      assert.equal(result.code, 2, `${args.join(' ')}: ${explain(result)}`);
      assert.match(result.stderr, message);
    }
    const lag = await runCli(['--redis', 'redis://127.0.0.1:1', 'lag', stream, '--interval', '1s']);
    assert.equal(lag.code, 2, explain(lag));
    assert.equal(lag.stderr, 'sluice: Expected `--interval` to come with `--watch`\n');
  });
});

describe('trim --respect-groups and info', () => {
  test('trim --respect-groups removes only what every group is done with, and names the group that held it back', async () => {
    const stream = `${uniquePrefix('flow')}events:orders`;
    const ids = await addEntries(redis.server, stream, 10);
    // billing: delivered 6, acknowledged 4 → it still needs entries 5 and 6 (pending) and 7-10.
    await billingGroup(stream, ids, 6, 4);
    await redis.server.cli('XGROUP', 'CREATE', stream, 'analytics', '$');

    const result = await runCli(['--redis', redis.server.url, 'trim', stream, '--max-len', '2', '--exact', '--respect-groups']);
    assert.equal(result.code, 0, explain(result));
    const [removed, heldBack, ...rest] = lines(result.stdout);
    assert.deepEqual(rest, []);
    assert.equal(removed, `removed 4 entries from ${stream}`);
    // The policy keeps 2 (entries 9-10); billing holds entries 5-8 as well.
    assert.match(heldBack ?? '', new RegExp(`^group billing held the trim back: 4 entries kept that the policy would remove, the oldest \\(${ids[4]}\\) [\\d.]+(ms|s) old$`));
    assert.equal(await redis.server.cli('XLEN', stream), '6');
    assert.equal(lines(await redis.server.cli('XRANGE', stream, '-', '+', 'COUNT', '1'))[0], ids[4]);

    const asJson = await runCli(['--redis', redis.server.url, 'trim', stream, '--max-len', '2', '--exact', '--respect-groups', '--json']);
    assert.equal(asJson.code, 0, explain(asJson));
    const report = JSON.parse(asJson.stdout) as { stream: string; removed: number; heldBackBy: { group: string; oldestNeededId: string; entries: number; ageMs: number } };
    assert.equal(report.stream, stream);
    assert.equal(report.removed, 0);
    assert.deepEqual({ ...report.heldBackBy, ageMs: 0 }, { group: 'billing', oldestNeededId: ids[4], entries: 4, ageMs: 0 });
    assert.ok(report.heldBackBy.ageMs >= 0);

    // info shows it: a detail line, and an alert.
    const info = await runCli(['--redis', redis.server.url, 'info', stream]);
    assert.equal(info.code, 0, explain(info));
    assert.match(info.stdout, new RegExp(`^retention held back  by group billing: 4 entries kept that the policy would remove, the oldest \\(${ids[4]}\\) \\S+ old$`, 'm'));
    assert.match(info.stdout, /^Alerts:$/m);
    assert.match(info.stdout, new RegExp(`^ {2}WARN {2}retention-held-back {2}group billing holds retention of ${stream} back: 4 entries kept`, 'm'));
    const infoJson = await runCli(['--redis', redis.server.url, 'info', stream, '--json']);
    assert.equal(infoJson.code, 0, explain(infoJson));
    const parsed = JSON.parse(infoJson.stdout) as { retentionHeldBack: { group: string; entries: number }; alerts: Array<{ kind: string; group?: string; severity: string }> };
    assert.equal(parsed.retentionHeldBack.group, 'billing');
    assert.equal(parsed.retentionHeldBack.entries, 4);
    assert.deepEqual(parsed.alerts.map((a) => [a.kind, a.group, a.severity]), [['retention-held-back', 'billing', 'warn']]);

    // Once billing has caught up, the next trim removes what the policy asks and clears the record.
    await redis.server.cli('XREADGROUP', 'GROUP', 'billing', 'worker-1', 'STREAMS', stream, '>');
    await redis.server.cli('XACK', stream, 'billing', ...ids);
    const caughtUp = await runCli(['--redis', redis.server.url, 'trim', stream, '--max-len', '2', '--exact', '--respect-groups']);
    assert.equal(caughtUp.stdout, `removed 4 entries from ${stream}\n`);
    const clear = await runCli(['--redis', redis.server.url, 'info', stream]);
    assert.doesNotMatch(clear.stdout, /retention held back|Alerts/);
  });

  test('info --alerts takes two snapshots: a group with undelivered entries that reads nothing fails', async () => {
    const stream = `${uniquePrefix('flow')}events:orders`;
    const ids = await addEntries(redis.server, stream, 4);
    await billingGroup(stream, ids, 1, 0);
    const result = await runCli(['--redis', redis.server.url, 'info', stream, '--alerts', '--interval', '200ms']);
    assert.equal(result.code, 0, explain(result));
    assert.match(result.stdout, new RegExp(`^ {2}FAIL {2}no-progress {2}group billing on ${stream} made no progress in \\d+ms: 3 undelivered, 1 pending, last delivered ${ids[0]}; check that its consumers are running`, 'm'));
    // Without --alerts, info stays a single look: no progress is not judged.
    const plain = await runCli(['--redis', redis.server.url, 'info', stream, '--max-length', '3']);
    assert.equal(plain.code, 0, explain(plain));
    assert.doesNotMatch(plain.stdout, /no-progress/);
    assert.match(plain.stdout, new RegExp(`^ {2}WARN {2}length {2}${stream} holds 4 entries, over the threshold of 3`, 'm'));
  });
});

describe('lag', () => {
  test('lag shows each group: lag (counted when Redis cannot tell it), pending, last delivered', async () => {
    const stream = `${uniquePrefix('flow')}events:orders`;
    const ids = await addEntries(redis.server, stream, 5);
    await billingGroup(stream, ids, 1, 0);
    // A deletion after billing's position makes Redis report its lag as nil.
    await redis.server.cli('XDEL', stream, ids[2] as string);
    await redis.server.cli('XGROUP', 'CREATE', stream, 'analytics', '$');
    const reply = (await redis.server.cli('XINFO', 'GROUPS', stream)).split('\n');
    const billingLag = reply[reply.indexOf('lag', reply.indexOf('billing')) + 1];
    assert.ok(billingLag === undefined || billingLag === '', `Redis reports a nil lag for billing: ${reply.join(' ')}`);

    const result = await runCli(['--redis', redis.server.url, 'lag', stream]);
    assert.equal(result.code, 0, explain(result));
    const rows = lines(result.stdout);
    assert.match(rows[0] as string, /^STREAM\s+GROUP\s+LAG\s+BEHIND\s+PENDING\s+LAST DELIVERED$/);
    assert.match(result.stdout, new RegExp(`^${stream}\\s+billing\\s+3\\s+\\d+(ms|\\.\\d+s)\\s+1\\s+${ids[0]}$`, 'm'));
    assert.match(result.stdout, new RegExp(`^${stream}\\s+analytics\\s+0\\s+0ms\\s+0\\s+${ids[4]}$`, 'm'));

    const asJson = await runCli(['--redis', redis.server.url, 'lag', stream, '--json']);
    assert.equal(asJson.code, 0, explain(asJson));
    const report = JSON.parse(asJson.stdout) as { time: number; streams: Array<{ stream: string; exists: boolean; groups: Array<Record<string, unknown>> }> };
    assert.equal(typeof report.time, 'number');
    assert.equal(report.streams.length, 1);
    const billing = report.streams[0]?.groups.find((g) => g.group === 'billing');
    // Behind by the age of its first undelivered entry, ids[1], when the lags were read.
    assert.deepEqual(billing, { group: 'billing', pending: 1, lastDeliveredId: ids[0], lag: 3, exact: true, behindMs: report.time - Number((ids[1] as string).split('-')[0]) });

    // Without a stream: every stream that has groups.
    const all = await runCli(['--redis', redis.server.url, 'lag']);
    assert.equal(all.code, 0, explain(all));
    assert.match(all.stdout, new RegExp(`^${stream}\\s+billing\\s+3\\s+`, 'm'));

    const missing = await runCli(['--redis', redis.server.url, 'lag', `${stream}:none`]);
    assert.equal(missing.code, 0, explain(missing));
    assert.equal(missing.stdout, `stream ${stream}:none does not exist\n`);
  });

  test('lag --watch refreshes until Ctrl-C, then exits 0 (tables off a terminal, JSON lines with --json)', async () => {
    const stream = `${uniquePrefix('flow')}events:orders`;
    const ids = await addEntries(redis.server, stream, 3);
    await billingGroup(stream, ids, 1, 0);

    const watching = spawnCli(['--redis', redis.server.url, 'lag', stream, '--watch', '--interval', '100ms']);
    const tables = () => lines(watching.stdout()).filter((l) => /^STREAM\s+GROUP/.test(l)).length;
    await waitFor(() => tables() >= 2, { timeout: 15_000, message: () => `two refreshes: ${watching.stdout()}${watching.stderr()}` });
    // A publish between refreshes shows in a later one.
    await redis.server.cli('XADD', stream, '*', 'order_id', 'late');
    await waitFor(() => new RegExp(`^${stream}\\s+billing\\s+3\\s+\\S+\\s+1\\s`, 'm').test(watching.stdout()), { message: () => watching.stdout() });
    watching.child.kill('SIGINT');
    const result = await watching.exited;
    assert.equal(result.code, 0, explain(result));
    assert.equal(result.stderr, '');
    assert.ok(!result.stdout.includes('\x1b['), 'no terminal escapes off a terminal');

    const json = spawnCli(['--redis', redis.server.url, 'lag', stream, '--watch', '--interval', '100ms', '--json']);
    await waitFor(() => lines(json.stdout()).length >= 2, { timeout: 15_000, message: () => json.stdout() + json.stderr() });
    json.child.kill('SIGINT');
    const jsonResult = await json.exited;
    assert.equal(jsonResult.code, 0, explain(jsonResult));
    const reports = lines(jsonResult.stdout).map((line) => JSON.parse(line) as { time: number; streams: Array<{ groups: Array<{ group: string; lag: number }> }> });
    assert.ok(reports.length >= 2);
    for (const report of reports) assert.equal(report.streams[0]?.groups[0]?.lag, 3);
    assert.ok((reports[1]?.time ?? 0) >= (reports[0]?.time ?? Infinity) + 90, 'refreshed --interval apart');
  });
});

describe('doctor alerts', () => {
  test('doctor reports a stream over --max-length and a group with pending entries nobody acknowledges', async () => {
    const stream = `${uniquePrefix('flow')}events:orders`;
    const ids = await addEntries(redis.server, stream, 3);
    await billingGroup(stream, ids, 3, 0); // everything delivered, nothing acknowledged: lag 0, 3 pending

    const result = await runCli(['--redis', redis.server.url, 'doctor', '--max-length', '2', '--interval', '300ms']);
    assert.equal(result.code, 0, explain(result));
    const out = result.stdout;
    // After the server audit.
    assert.ok(out.indexOf('Production settings:') < out.indexOf('Streams (two snapshots 300ms apart; length threshold 2):'), out);
    assert.match(out, new RegExp(`^ {2}WARN {2}length\\s+${stream} holds 3 entries, over the threshold of 2: bound it with retention`, 'm'));
    assert.match(out, new RegExp(`^ {2}WARN {2}no-progress\\s+group billing on ${stream} made no progress in \\d+ms: 0 undelivered, 3 pending, last delivered ${ids[2]}; its consumers hold entries without acknowledging them`, 'm'));
    assert.match(out, /^\d+ streams? checked: \d+ failed, \d+ warnings?\.$/m);

    const asJson = await runCli(['--redis', redis.server.url, 'doctor', '--max-length', '2', '--interval', '300ms', '--json']);
    assert.equal(asJson.code, 0, explain(asJson));
    const report = JSON.parse(asJson.stdout) as {
      findings: Array<{ check: string; status: string }>;
      streams: { checked: number; intervalMs: number; maxLength: number; alerts: Array<{ stream: string; group?: string; kind: string; severity: string; message: string }> };
    };
    assert.equal(report.findings.find((f) => f.check === 'appendonly')?.status, 'ok');
    assert.equal(report.streams.intervalMs, 300);
    assert.equal(report.streams.maxLength, 2);
    assert.ok(report.streams.checked >= 1);
    const mine = report.streams.alerts.filter((a) => a.stream === stream);
    assert.deepEqual(mine.map((a) => [a.kind, a.group, a.severity]), [
      ['length', undefined, 'warn'],
      ['no-progress', 'billing', 'warn'],
    ]);

    // Once the group acknowledges its entries, it is idle, not stuck.
    await redis.server.cli('XACK', stream, 'billing', ...ids);
    const healthy = await runCli(['--redis', redis.server.url, 'doctor', '--interval', '200ms', '--json']);
    const alerts = (JSON.parse(healthy.stdout) as typeof report).streams.alerts.filter((a) => a.stream === stream);
    assert.deepEqual(alerts, []);
  });
});
