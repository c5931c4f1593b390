import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stopManagedRedis } from '../../src/redis/managed-server.js';
import { onCleanup, useTempDir } from '../helpers/fixtures.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { explain, runCli } from './cli.js';

const home = useTempDir('sluice-cli-home-');
// The managed server is found on PATH, as a user's would be; SLUICE_HOME keeps it out of the repo.
const env = () => ({ SLUICE_HOME: home.path, SLUICE_REDIS_SERVER: undefined });

// Stacked after the folder: whatever happened in the test, the daemonized redis-server it may
// have started is stopped before the folder is removed.
onCleanup(() => stopManagedRedis({ home: home.path }).catch(() => undefined));

interface Status {
  running: boolean;
  dataDir: string;
  pid?: number;
  port?: number;
  url?: string;
  reused?: boolean;
}

/** Running: signal 0 reaches it and it is not a zombie (this container's init reaps late). */
async function isAlive(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // Field 3, after the parenthesised command name, is the state.
  return !/\) Z /.test(stat);
}

test('redis start (twice: same server), status, use without --redis, stop, status', async () => {
  const dataDir = join(home.path, 'redis');

  const started = await runCli(['redis', 'start', '--json'], { env: env() });
  assert.equal(started.code, 0, explain(started));
  const first = JSON.parse(started.stdout) as Status;
  assert.equal(first.running, true);
  assert.equal(first.reused, false);
  assert.equal(first.dataDir, dataDir);
  assert.equal(first.url, `redis://127.0.0.1:${first.port}`);
  assert.ok(first.pid && (await isAlive(first.pid)));

  const again = await runCli(['redis', 'start', '--json'], { env: env() });
  assert.equal(again.code, 0, explain(again));
  const second = JSON.parse(again.stdout) as Status;
  assert.equal(second.pid, first.pid);
  assert.equal(second.port, first.port);
  assert.equal(second.reused, true);

  // --home is the same as SLUICE_HOME.
  const status = await runCli(['redis', 'status', '--home', home.path], { env: { SLUICE_REDIS_SERVER: undefined } });
  assert.equal(status.code, 0, explain(status));
  assert.match(status.stdout, /^state\s+running$/m);
  assert.match(status.stdout, new RegExp(`^url\\s+redis://127\\.0\\.0\\.1:${first.port}$`, 'm'));
  assert.match(status.stdout, new RegExp(`^pid\\s+${first.pid}$`, 'm'));
  assert.match(status.stdout, new RegExp(`^port\\s+${first.port}$`, 'm'));
  assert.match(status.stdout, new RegExp(`^data dir\\s+${dataDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));

  // Without --redis or REDIS_URL, commands use the managed server.
  const stream = `${uniquePrefix('managed')}events:orders`;
  const published = await runCli(['publish', stream, 'order_id=12345'], { env: env() });
  assert.equal(published.code, 0, explain(published));
  const info = await runCli(['info', stream, '--json'], { env: env() });
  assert.equal((JSON.parse(info.stdout) as { length: number }).length, 1, explain(info));

  const stopped = await runCli(['redis', 'stop'], { env: env() });
  assert.equal(stopped.code, 0, explain(stopped));
  assert.equal(stopped.stdout, `stopped redis-server (pid ${first.pid})\n`);
  assert.equal(await isAlive(first.pid), false);

  const afterStop = await runCli(['redis', 'status'], { env: env() });
  assert.equal(afterStop.code, 0, explain(afterStop));
  assert.match(afterStop.stdout, /^state\s+not running$/m);
  const afterJson = await runCli(['redis', 'status', '--json'], { env: env() });
  assert.deepEqual(JSON.parse(afterJson.stdout), { running: false, dataDir });

  const stopAgain = await runCli(['redis', 'stop', '--json'], { env: env() });
  assert.equal(stopAgain.code, 0, explain(stopAgain));
  assert.deepEqual(JSON.parse(stopAgain.stdout), { stopped: false, dataDir });
});
