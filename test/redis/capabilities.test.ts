import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { auditServer } from '../../src/index.js';
import { docTokens } from '../../src/redis/capabilities.js';
import { AUDITED_SETTINGS } from '../../src/redis/server-audit.js';
import { useSluice } from '../helpers/sluice-fixture.js';

const redis = useSluice();

describe('server capabilities', () => {
  test('Redis 7.0.15 has none of the native features', async () => {
    const version = /^redis_version:(\S+)/m.exec(await redis.server.cli('INFO', 'server'))?.[1];
    assert.equal(version, '7.0.15', 'this test expects the Debian 12 floor, redis-server 7.0.15');
    assert.deepEqual(await redis.sluice.capabilities(), {
      version: '7.0.15',
      waitAof: false,
      xackdel: false,
      ackedTrim: false,
      readGroupClaim: false,
      xaddIdmp: false,
    });
  });

  test('detection is by command docs: the 7.0 XADD docs do list the tokens it does have', async () => {
    const docs = await redis.sluice.connection.command(['COMMAND', 'DOCS', 'XADD']);
    const tokens = docTokens(docs);
    for (const token of ['NOMKSTREAM', 'MAXLEN', 'MINID', 'LIMIT', '*']) assert.ok(tokens.has(token), `XADD docs list ${token}`);
    assert.ok(!tokens.has('ACKED') && !tokens.has('IDMP'));
  });

  test('capabilities are detected once and cached', async () => {
    const first = redis.sluice.capabilities();
    assert.equal(redis.sluice.capabilities(), first);
    await first;
  });
});

describe('server audit', () => {
  test('audits the live configuration of the test server', async () => {
    const settings: Record<string, string> = {};
    for (const name of AUDITED_SETTINGS) {
      const [, value] = await redis.sluice.connection.command<string[]>(['CONFIG', 'GET', name]);
      settings[name] = value as string;
    }
    const findings = Object.fromEntries(auditServer(settings).map((f) => [f.check, f.status]));
    // The test server runs without AOF, with noeviction and no maxmemory.
    assert.deepEqual(findings, { appendonly: 'fail', appendfsync: 'ok', 'maxmemory-policy': 'ok', maxmemory: 'warn' });
  });
});
