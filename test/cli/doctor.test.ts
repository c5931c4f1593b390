import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CAPABILITY_LABELS } from '../../src/redis/capabilities.js';
import { useRedis } from '../helpers/fixtures.js';
import { explain, runCli } from './cli.js';

// appendonly no (the helper's default): a server that loses events on restart.
const redis = useRedis();

test('doctor reports the version, the capabilities, and a failing appendonly with its fix (exit 0)', async () => {
  const version = /redis_version:(\S+)/.exec(await redis.server.cli('INFO', 'server'))?.[1];
  const result = await runCli(['--redis', redis.server.url, 'doctor']);
  assert.equal(result.code, 0, explain(result));
  assert.equal(result.stderr, '');
  const out = result.stdout;
  assert.match(out, new RegExp(`^redis\\s+${redis.server.url}$`, 'm'));
  assert.match(out, new RegExp(`^version\\s+${version?.replace(/\./g, '\\.')}$`, 'm'));
  for (const label of Object.values(CAPABILITY_LABELS)) {
    assert.match(out, new RegExp(`^  ${label.replace(/[()+/.]/g, '\\$&')}\\s+(native|client-side fallback)$`, 'm'));
  }
  assert.match(out, /^ {2}FAIL {2}appendonly\s+appendonly is no: .*$/m);
  assert.match(out, /^\s+fix: CONFIG SET appendonly yes/m);
  assert.match(out, /^ {2}ok {4}maxmemory-policy\s+noeviction/m);
  assert.match(out, /^1 failed, \d warnings?: /m);
});

test('doctor --json prints the findings with status and fix', async () => {
  const result = await runCli(['--redis', redis.server.url, 'doctor', '--json']);
  assert.equal(result.code, 0, explain(result));
  const report = JSON.parse(result.stdout) as {
    url: string;
    version: string;
    capabilities: Record<string, boolean>;
    settings: Record<string, string>;
    findings: Array<{ check: string; status: string; detail: string; fix: string }>;
  };
  assert.equal(report.url, redis.server.url);
  assert.deepEqual(Object.keys(report.capabilities).sort(), Object.keys(CAPABILITY_LABELS).sort());
  assert.equal(report.settings.appendonly, 'no');
  const aof = report.findings.find((f) => f.check === 'appendonly');
  assert.equal(aof?.status, 'fail');
  assert.match(aof?.fix ?? '', /^CONFIG SET appendonly yes/);
  assert.equal(report.findings.find((f) => f.check === 'maxmemory-policy')?.status, 'ok');
});
