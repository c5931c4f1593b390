import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { auditServer } from './server-audit.js';

function byCheck(findings: ReturnType<typeof auditServer>) {
  return Object.fromEntries(findings.map((f) => [f.check, f]));
}

describe('auditServer', () => {
  test('passes a production-ready configuration, with no fixes', () => {
    const findings = auditServer({ appendonly: 'yes', appendfsync: 'everysec', 'maxmemory-policy': 'noeviction', maxmemory: String(2 * 1024 ** 3) });
    assert.deepEqual(findings.map((f) => [f.check, f.status]), [
      ['appendonly', 'ok'],
      ['appendfsync', 'ok'],
      ['maxmemory-policy', 'ok'],
      ['maxmemory', 'ok'],
    ]);
    assert.ok(findings.every((f) => f.fix === ''));
    assert.match(byCheck(findings).maxmemory?.detail ?? '', /2\.0 GiB/);
  });

  test('appendfsync always is fine too', () => {
    assert.equal(byCheck(auditServer({ appendfsync: 'always' })).appendfsync?.status, 'ok');
  });

  test('fails no AOF and an evicting policy; warns on fsync no and unlimited memory; says how to fix each', () => {
    const findings = byCheck(auditServer({ appendonly: 'no', appendfsync: 'no', 'maxmemory-policy': 'allkeys-lru', maxmemory: '0' }));
    assert.equal(findings.appendonly?.status, 'fail');
    assert.match(findings.appendonly?.fix ?? '', /CONFIG SET appendonly yes/);
    assert.equal(findings.appendfsync?.status, 'warn');
    assert.match(findings.appendfsync?.fix ?? '', /CONFIG SET appendfsync everysec/);
    assert.equal(findings['maxmemory-policy']?.status, 'fail');
    assert.match(findings['maxmemory-policy']?.detail ?? '', /allkeys-lru/);
    assert.match(findings['maxmemory-policy']?.fix ?? '', /CONFIG SET maxmemory-policy noeviction/);
    assert.equal(findings.maxmemory?.status, 'warn');
    assert.match(findings.maxmemory?.fix ?? '', /CONFIG SET maxmemory/);
  });

  test('unknown settings are not taken as good', () => {
    const findings = auditServer({});
    assert.deepEqual(findings.map((f) => f.status), ['fail', 'warn', 'fail', 'warn']);
    assert.match(findings[0]?.detail ?? '', /unknown/);
  });
});
