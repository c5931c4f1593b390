import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { connect, ManagedRedisError, managedRedisStatus, startManagedRedis, stopManagedRedis } from '../../src/index.js';
import { onCleanup, useTempDir } from '../helpers/fixtures.js';
import { waitFor } from '../helpers/wait.js';

const home = useTempDir('sluice-test-home-');

// Stacked after the folder: whatever happened in the tests, no redis-server is left running once
// the folder is removed.
onCleanup(() => stopManagedRedis({ home: home.path }));

/** Whether the process runs: not gone, and not a zombie waiting for init to reap it. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return !existsSync('/proc/self'); // gone meanwhile (or no /proc to tell)
  }
  return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
}

/** Runs `fn` with environment variables set (or unset with undefined), then restores them. */
async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(vars);
  try {
    return await fn();
  } finally {
    apply(saved);
  }
}

describe('managed local redis-server', () => {
  test('starts durable, non-evicting and on loopback; a second start reuses it', { timeout: 60_000 }, async () => {
    const first = await startManagedRedis({ home: home.path });
    assert.equal(first.running, true);
    assert.equal(first.reused, false);
    assert.equal(first.dataDir, join(home.path, 'redis'));
    assert.ok(first.pid && isAlive(first.pid));
    assert.match(first.url, /^redis:\/\/127\.0\.0\.1:\d+$/);

    const sluice = await connect({ url: first.url });
    try {
      const config = async (name: string) => {
        const reply = await sluice.connection.command<string[]>(['CONFIG', 'GET', name]);
        assert.equal(reply[0], name);
        return reply[1];
      };
      assert.equal(await config('appendonly'), 'yes');
      assert.equal(await config('appendfsync'), 'everysec');
      assert.equal(await config('maxmemory-policy'), 'noeviction');
      assert.equal(await config('bind'), '127.0.0.1');
      assert.equal(await config('dir'), join(home.path, 'redis'));
    } finally {
      await sluice.close();
    }

    const second = await startManagedRedis({ home: home.path });
    assert.equal(second.reused, true);
    assert.equal(second.pid, first.pid);
    assert.equal(second.url, first.url);
    const state = JSON.parse(await readFile(join(home.path, 'redis', 'server.json'), 'utf8')) as { pid: number };
    assert.equal(state.pid, first.pid);
  });

  test('connect() with no url and no REDIS_URL uses the managed server', { timeout: 60_000 }, async () => {
    const status = await managedRedisStatus({ home: home.path });
    assert.equal(status.running, true);
    await withEnv({ REDIS_URL: undefined }, async () => {
      const sluice = await connect({ managed: { home: home.path } });
      try {
        assert.equal(sluice.url, status.url);
        const stream = sluice.stream('events:orders');
        const id = await stream.publish({ order_id: '12345' });
        assert.equal((await stream.range())[0]?.id, id);
      } finally {
        await sluice.close();
      }
    });
    // Still the same server: connect() reused it.
    assert.equal((await managedRedisStatus({ home: home.path })).pid, status.pid);
  });

  test('status reports running; stop stops the process; status then reports not running', { timeout: 60_000 }, async () => {
    const status = await managedRedisStatus({ home: home.path });
    assert.equal(status.running, true);
    assert.equal(status.dataDir, join(home.path, 'redis'));
    const pid = status.pid as number;
    assert.ok(isAlive(pid));

    const stopped = await stopManagedRedis({ home: home.path });
    assert.equal(stopped.stopped, true);
    assert.equal(stopped.pid, pid);
    await waitFor(() => !isAlive(pid), { message: `redis-server ${pid} exited` });
    assert.deepEqual(await managedRedisStatus({ home: home.path }), { running: false, dataDir: join(home.path, 'redis') });
    assert.equal((await stopManagedRedis({ home: home.path })).stopped, false, 'stopping twice is harmless');
  });

  test('a restarted managed server still has the events (AOF)', { timeout: 60_000 }, async () => {
    const started = await startManagedRedis({ home: home.path });
    assert.equal(started.reused, false);
    const sluice = await connect({ url: started.url });
    try {
      const events = await sluice.stream('events:orders').range();
      assert.deepEqual(events.map((e) => e.fields), [{ order_id: '12345' }]);
    } finally {
      await sluice.close();
    }
    await stopManagedRedis({ home: home.path });
  });

  test('SLUICE_REDIS_SERVER pointing at a missing file is ERR_REDIS_NOT_INSTALLED, naming the package to install', { timeout: 60_000 }, async () => {
    const otherHome = await mkdtemp(join(tmpdir(), 'sluice-test-home-'));
    try {
      const missing = join(otherHome, 'no-such-redis-server');
      await withEnv({ SLUICE_REDIS_SERVER: missing }, async () => {
        await assert.rejects(startManagedRedis({ home: otherHome }), (error: unknown) => {
          assert.ok(error instanceof ManagedRedisError);
          assert.equal(error.code, 'ERR_REDIS_NOT_INSTALLED');
          assert.ok(error.message.includes(missing), error.message);
          assert.match(error.message, /apt-get install redis-server/);
          return true;
        });
        await withEnv({ REDIS_URL: undefined }, async () => {
          await assert.rejects(connect({ managed: { home: otherHome } }), (error: unknown) => error instanceof ManagedRedisError && error.code === 'ERR_REDIS_NOT_INSTALLED');
        });
      });
      assert.equal((await managedRedisStatus({ home: otherHome })).running, false);
    } finally {
      await stopManagedRedis({ home: otherHome });
      await rm(otherHome, { recursive: true, force: true });
    }
  });
});
