import { DurabilityError, InvalidOptionError } from '../errors.js';
import type { Capabilities } from '../redis/capabilities.js';
import type { RedisConnection } from '../redis/connection.js';
import { parseDuration } from '../stream/time.js';

/**
 * How durable a publish must be before it resolves:
 * - `'none'`: stored in Redis's memory (and in its AOF per `appendfsync`).
 * - `'fsync'`: fsynced to the AOF of the server. WAITAOF on Redis 7.2+; on 7.0 only when the
 *   server runs with `appendfsync always` (then every write is fsynced before the reply).
 * - `{ replicas: N }`: acknowledged by N replicas (WAIT), within `timeout`.
 */
export type Durability = 'none' | 'fsync' | { replicas: number; timeout?: number | string };

export type ResolvedDurability = { level: 'none' } | { level: 'fsync'; timeoutMs: number } | { level: 'replicas'; replicas: number; timeoutMs: number };

export function parseDurability(value: unknown, defaultTimeoutMs: number, option = 'durability'): ResolvedDurability {
  if (value === undefined || value === 'none') return { level: 'none' };
  if (value === 'fsync') return { level: 'fsync', timeoutMs: defaultTimeoutMs };
  if (value !== null && typeof value === 'object' && 'replicas' in value) {
    const { replicas, timeout } = value as { replicas: unknown; timeout?: unknown };
    if (!Number.isSafeInteger(replicas) || (replicas as number) < 1) throw new InvalidOptionError(`${option}.replicas`, replicas, 'a whole number ≥ 1');
    const timeoutMs = timeout === undefined ? defaultTimeoutMs : parseDuration(timeout, `${option}.timeout`);
    // WAIT with timeout 0 blocks until the replicas answer, forever if they never do, and holds
    // up every publish behind it on the publisher's connection.
    if (timeoutMs < 1) throw new InvalidOptionError(`${option}.timeout`, timeout, 'a duration of at least 1 ms (WAIT with 0 would wait forever)');
    return { level: 'replicas', replicas: replicas as number, timeoutMs };
  }
  throw new InvalidOptionError(option, value, "`none`, `fsync` or { replicas: N }");
}

/** Parses the CLI form: `none`, `fsync` or `replicas:N`. */
export function parseDurabilityFlag(text: string, defaultTimeoutMs: number): ResolvedDurability {
  const match = /^replicas:(\d+)$/.exec(text);
  if (match) return parseDurability({ replicas: Number(match[1]) }, defaultTimeoutMs, '--durable');
  return parseDurability(text, defaultTimeoutMs, '--durable');
}

/**
 * Checks once per connection that the server can give `fsync` durability; throws
 * DurabilityError (naming the setting to change) before anything is published otherwise.
 */
export async function assertDurabilitySupported(conn: RedisConnection, caps: Capabilities, durability: ResolvedDurability): Promise<void> {
  if (durability.level !== 'fsync') return;
  const [, appendonly] = await conn.command<[string, string]>(['CONFIG', 'GET', 'appendonly']);
  if (caps.waitAof) {
    // WAITAOF with a local count refuses to run without an AOF.
    if (appendonly === 'yes') return;
    throw new DurabilityError(
      'ERR_DURABILITY_UNSUPPORTED',
      `Durability \`fsync\` needs the AOF, and this server has appendonly ${appendonly}: run CONFIG SET appendonly yes (and CONFIG REWRITE), or use durability \`none\``,
    );
  }
  const [, appendfsync] = await conn.command<[string, string]>(['CONFIG', 'GET', 'appendfsync']);
  if (appendonly !== 'yes' || appendfsync !== 'always') {
    throw new DurabilityError(
      'ERR_DURABILITY_UNSUPPORTED',
      `Durability \`fsync\` needs WAITAOF (Redis 7.2+) or, on Redis ${caps.version}, appendonly yes with appendfsync always; ` +
        `this server has appendonly ${appendonly} and appendfsync ${appendfsync}. ` +
        'Run CONFIG SET appendonly yes and CONFIG SET appendfsync always (and CONFIG REWRITE), or use durability `none`',
    );
  }
}

/** The command to send after a batch's XADDs, or undefined when the reply itself suffices. */
export function durabilityCommand(durability: ResolvedDurability, caps: Capabilities): string[] | undefined {
  if (durability.level === 'replicas') return ['WAIT', String(durability.replicas), String(durability.timeoutMs)];
  if (durability.level === 'fsync' && caps.waitAof) return ['WAITAOF', '1', '0', String(durability.timeoutMs)];
  return undefined;
}

/** Throws DurabilityError when the WAIT / WAITAOF reply falls short of what was asked. */
export function checkDurabilityReply(durability: ResolvedDurability, reply: unknown, eventId?: string): void {
  if (durability.level === 'replicas') {
    const acked = Number(reply);
    if (acked < durability.replicas) {
      throw new DurabilityError(
        'ERR_DURABILITY_TIMEOUT',
        `Only ${acked} of ${durability.replicas} replicas acknowledged within ${durability.timeoutMs} ms; the event${eventId ? ` ${eventId}` : ''} is stored on the primary but not yet replicated`,
        eventId,
      );
    }
  } else if (durability.level === 'fsync' && Array.isArray(reply)) {
    if (Number(reply[0]) < 1) {
      throw new DurabilityError(
        'ERR_DURABILITY_TIMEOUT',
        `The AOF was not fsynced within ${durability.timeoutMs} ms; the event${eventId ? ` ${eventId}` : ''} is stored but not yet on disk`,
        eventId,
      );
    }
  }
}
