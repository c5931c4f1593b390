/**
 * The guide's production advice for Redis as an event store, checked against a server's
 * configuration: events must survive restarts (AOF) and must never be evicted (noeviction),
 * and memory must be bounded on purpose (maxmemory) rather than by the kernel's OOM killer.
 */
import { formatBytes } from '../format.js';

export interface AuditFinding {
  check: string;
  status: 'ok' | 'warn' | 'fail';
  /** What was found. */
  detail: string;
  /** How to fix it; empty when the check passed. */
  fix: string;
}

export interface ServerSettings {
  appendonly?: string;
  appendfsync?: string;
  'maxmemory-policy'?: string;
  maxmemory?: string;
}

export const AUDITED_SETTINGS = ['appendonly', 'appendfsync', 'maxmemory-policy', 'maxmemory'] as const;

const persist = ' (and CONFIG REWRITE, or the same line in redis.conf, to keep it after a restart)';

export function auditServer(settings: ServerSettings): AuditFinding[] {
  const findings: AuditFinding[] = [];
  const aof = settings.appendonly;
  findings.push(
    aof === 'yes'
      ? { check: 'appendonly', status: 'ok', detail: 'AOF persistence is on: events survive a restart', fix: '' }
      : {
          check: 'appendonly',
          status: 'fail',
          detail: `appendonly is ${aof ?? 'unknown'}: events written since the last snapshot are lost when Redis restarts`,
          fix: `CONFIG SET appendonly yes${persist}`,
        },
  );
  const fsync = settings.appendfsync;
  if (fsync === 'always' || fsync === 'everysec') {
    findings.push({
      check: 'appendfsync',
      status: 'ok',
      detail: fsync === 'always' ? 'every write is fsynced before Redis replies' : 'the AOF is fsynced every second: a crash of the machine loses at most ~1 s of events',
      fix: '',
    });
  } else {
    findings.push({
      check: 'appendfsync',
      status: 'warn',
      detail: `appendfsync is ${fsync ?? 'unknown'}: the OS decides when events reach the disk`,
      fix: `CONFIG SET appendfsync everysec${persist}`,
    });
  }
  const policy = settings['maxmemory-policy'];
  findings.push(
    policy === 'noeviction'
      ? { check: 'maxmemory-policy', status: 'ok', detail: 'noeviction: Redis refuses writes when full instead of deleting streams', fix: '' }
      : {
          check: 'maxmemory-policy',
          status: 'fail',
          detail: `maxmemory-policy is ${policy ?? 'unknown'}: under memory pressure Redis may evict whole streams, losing events`,
          fix: `CONFIG SET maxmemory-policy noeviction${persist}`,
        },
  );
  const maxmemory = Number(settings.maxmemory ?? '0');
  findings.push(
    maxmemory > 0
      ? { check: 'maxmemory', status: 'ok', detail: `maxmemory is ${formatBytes(maxmemory)}`, fix: '' }
      : {
          check: 'maxmemory',
          status: 'warn',
          detail: 'maxmemory is 0 (unlimited): a growing stream can use all of the machine\'s memory until the kernel kills Redis',
          fix: `CONFIG SET maxmemory <bytes, e.g. 2gb>${persist}; keep streams bounded with retention`,
        },
  );
  return findings;
}
