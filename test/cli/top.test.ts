import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { uniquePrefix } from '../helpers/redis-server.js';
import { beforeInOrder, useRedis } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/wait.js';
import { binPath, explain, repoRoot, runCli } from './cli.js';

// A server of its own: `top` shows every stream on it.
const redis = useRedis();
let name: string;

beforeInOrder(async () => {
  name = `${uniquePrefix('top')}orders`;
  for (let i = 0; i < 7; i++) await redis.server.cli('XADD', name, '*', 'order_id', String(i));
  await redis.server.cli('XGROUP', 'CREATE', name, 'billing', '0');
  await redis.server.cli('XADD', `${uniquePrefix('top')}clicks`, '*', 'page', '/');
});

test('sluice top off a terminal: one frame with the streams and their groups, then exit 0', async () => {
  const result = await runCli(['--redis', redis.server.url, 'top', '--interval', '100ms'], { env: { COLUMNS: '100' } });
  assert.equal(result.code, 0, explain(result));
  const lines = result.stdout.split('\n');
  assert.match(lines[0] as string, /^sluice top · 2 streams · 1 group · \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ · every 100ms$/);
  assert.equal(lines[1], 'alerts: none');
  assert.match(result.stdout, /STREAM \/ GROUP +LENGTH +IN\/S +OUT\/S +LAG +BEHIND +PENDING +OLDEST PEND +DLQ/);
  // The stream: 7 entries, none appended between the two reads, its group's lag as the largest.
  assert.match(result.stdout, new RegExp(`^ {2}${name} +7 +0 +7 +0$`, 'm'));
  // BEHIND: the age of the group's first undelivered entry, appended when the test file started.
  assert.match(result.stdout, /^ {4}billing +- +7 +\d+(ms|\.\d+s) +0 +-$/m);
  assert.ok(!result.stdout.includes('\x1b'), 'no escape sequences off a terminal');
  for (const line of lines) assert.ok(line.length <= 100, line);
});

test('sluice top --json --match: the overview as one JSON object, only the matching streams', async () => {
  const result = await runCli(['--redis', redis.server.url, '--json', 'top', '--interval', '100ms', '--match', '*orders']);
  assert.equal(result.code, 0, explain(result));
  const overview = JSON.parse(result.stdout);
  assert.deepEqual(
    overview.streams.map((s: { name: string; length: number; groups: Array<{ name: string; lag: number }> }) => [s.name, s.length, s.groups.map((g) => [g.name, g.lag])]),
    [[name, 7, [['billing', 7]]]],
  );
  assert.equal(overview.streams[0].inRate, 0, 'two reads apart, so the rate is known');
});

test('sluice top --interval 10ms is a usage error', async () => {
  const result = await runCli(['--redis', redis.server.url, 'top', '--interval', '10ms']);
  assert.equal(result.code, 2, explain(result));
  assert.match(result.stderr, /--interval/);
});

test('sluice top on a terminal: full screen, refreshed in place, q quits and gives the terminal back', async () => {
  // `script` (util-linux) runs the command in a pseudo-terminal and relays our keys to it.
  // A terminal of 120 columns: the stream names fit whole.
  const command = `stty cols 120 rows 30; ${JSON.stringify(process.execPath)} ${JSON.stringify(binPath)} --redis ${redis.server.url} top --interval 100ms`;
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm', SLUICE_REDIS_SERVER: '/nonexistent/redis-server' };
  delete env.REDIS_URL;
  const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: repoRoot, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  try {
    // Two frames drawn from the top-left corner: a refresh in place, not a scroll.
    await waitFor(() => output.split('\x1b[Hsluice top').length > 2, { timeout: 15_000, message: () => `two frames; got ${JSON.stringify(output)}` });
    assert.ok(output.includes('\x1b[?1049h'), 'the alternate screen is used');
    assert.ok(output.includes('\x1b[?25l'), 'the cursor is hidden');
    assert.match(output, /q quits/);
    assert.match(output, new RegExp(`${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} +7`));
    child.stdin.write('q');
    const code = await Promise.race([exited, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 10_000))]);
    assert.equal(code, 0, `exit code; output: ${JSON.stringify(output)}`);
    const leave = output.lastIndexOf('\x1b[?1049l');
    assert.ok(leave > output.lastIndexOf('sluice top'), 'the main screen is restored after the last frame');
    assert.ok(output.lastIndexOf('\x1b[?25h') > output.lastIndexOf('sluice top'), 'the cursor is shown again');
  } finally {
    child.kill('SIGKILL');
  }
});
