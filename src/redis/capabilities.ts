import type { RedisConnection } from './connection.js';

/**
 * Server features that newer Redis versions have natively and that Sluice otherwise provides
 * client-side. Detected by command and argument presence (COMMAND INFO / COMMAND DOCS), never by
 * version string, so backports and forks are judged by what they actually accept.
 */
export interface Capabilities {
  /** Redis version string, for display only. */
  version: string;
  /** WAITAOF (7.2+): wait until writes are fsynced to the AOF. */
  waitAof: boolean;
  /** XACKDEL (8.2+): acknowledge and delete in one command. */
  xackdel: boolean;
  /** XADD/XTRIM ACKED (8.2+): trimming that keeps entries some group has not acknowledged. */
  ackedTrim: boolean;
  /** XREADGROUP … CLAIM (8.4+): reclaim idle pending entries within the read. */
  readGroupClaim: boolean;
  /** XADD IDMP (8.6+): idempotent producers on the server. */
  xaddIdmp: boolean;
}

export const CAPABILITY_LABELS: Record<Exclude<keyof Capabilities, 'version'>, string> = {
  waitAof: 'WAITAOF (7.2+)',
  xackdel: 'XACKDEL (8.2+)',
  ackedTrim: 'XTRIM/XADD ACKED (8.2+)',
  readGroupClaim: 'XREADGROUP CLAIM (8.4+)',
  xaddIdmp: 'XADD IDMP (8.6+)',
};

/** All `token` values in a COMMAND DOCS reply (RESP2: nested flat arrays), upper-cased. */
export function docTokens(reply: unknown, out = new Set<string>()): Set<string> {
  if (!Array.isArray(reply)) return out;
  for (let i = 0; i < reply.length; i++) {
    const item = reply[i];
    // Keys sit at even indexes of a flat map: a *value* that reads `token` (an argument named
    // "token") must not make the next key count as a token.
    if (i % 2 === 0 && item === 'token' && typeof reply[i + 1] === 'string') out.add((reply[i + 1] as string).toUpperCase());
    else if (Array.isArray(item)) docTokens(item, out);
  }
  return out;
}

export async function detectCapabilities(conn: RedisConnection): Promise<Capabilities> {
  const [info, commands, xaddDocs, xtrimDocs, readGroupDocs] = await conn.pipeline([
    ['INFO', 'server'],
    ['COMMAND', 'INFO', 'WAITAOF', 'XACKDEL'],
    ['COMMAND', 'DOCS', 'XADD'],
    ['COMMAND', 'DOCS', 'XTRIM'],
    ['COMMAND', 'DOCS', 'XREADGROUP'],
  ]);
  const version = /redis_version:([^\r\n]+)/.exec(String(info))?.[1] ?? 'unknown';
  const known = Array.isArray(commands) ? commands : [];
  const xaddTokens = docTokens(xaddDocs);
  return {
    version,
    waitAof: known[0] !== null && known[0] !== undefined,
    xackdel: known[1] !== null && known[1] !== undefined,
    ackedTrim: docTokens(xtrimDocs).has('ACKED') || xaddTokens.has('ACKED'),
    readGroupClaim: docTokens(readGroupDocs).has('CLAIM'),
    xaddIdmp: xaddTokens.has('IDMP') || xaddTokens.has('IDMPAUTO'),
  };
}
