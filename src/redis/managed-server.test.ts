import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { managedDataDir, managedRedisConfig, sluiceHome } from './managed-server.js';

function directives(config: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of config.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.indexOf(' ');
    assert.ok(space > 0, `directive with a value: ${line}`);
    assert.ok(!map.has(line.slice(0, space)), `directive given once: ${line}`);
    map.set(line.slice(0, space), line.slice(space + 1));
  }
  return map;
}

describe('managedRedisConfig', () => {
  test('is durable, never evicts, and listens on loopback only', () => {
    const config = directives(managedRedisConfig('/data/sluice/redis', 6390));
    assert.equal(config.get('bind'), '127.0.0.1');
    assert.equal(config.get('protected-mode'), 'yes');
    assert.equal(config.get('port'), '6390');
    assert.equal(config.get('appendonly'), 'yes');
    assert.equal(config.get('appendfsync'), 'everysec');
    assert.equal(config.get('maxmemory-policy'), 'noeviction');
    assert.equal(config.get('daemonize'), 'yes');
    assert.equal(config.get('dir'), '"/data/sluice/redis"');
    assert.equal(config.get('pidfile'), `"${join('/data/sluice/redis', 'redis.pid')}"`);
    assert.equal(config.get('logfile'), `"${join('/data/sluice/redis', 'redis.log')}"`);
  });

  test('quotes paths with spaces, quotes and backslashes', () => {
    const config = directives(managedRedisConfig('/tmp/my "odd" dir\\x', 7000));
    assert.equal(config.get('dir'), '"/tmp/my \\"odd\\" dir\\\\x"');
  });
});

describe('managed data folder', () => {
  test('is <home>/redis', () => {
    assert.equal(managedDataDir({ home: '/srv/app/.sluice' }), join('/srv/app/.sluice', 'redis'));
    assert.equal(sluiceHome('/srv/x'), '/srv/x');
  });
});
