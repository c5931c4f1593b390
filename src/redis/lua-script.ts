import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { RedisConnection } from './connection.js';
import { RedisServerError } from '../errors.js';

/**
 * A Lua script from src/redis/scripts/, run with EVALSHA (EVAL once after NOSCRIPT, e.g. after
 * a restart or SCRIPT FLUSH). The file name ends with its key count: `dead-letter-2.lua`.
 */
export class LuaScript {
  readonly name: string;
  readonly keyCount: number;
  readonly source: string;
  readonly sha: string;

  constructor(fileName: string) {
    const match = /-(\d+)\.lua$/.exec(fileName);
    if (!match) throw new Error(`Script file names end with their key count, like dead-letter-2.lua: ${fileName}`);
    this.name = fileName;
    this.keyCount = Number(match[1]);
    this.source = readFileSync(new URL(`./scripts/${fileName}`, import.meta.url), 'utf8');
    this.sha = createHash('sha1').update(this.source).digest('hex');
  }

  /** Runs the script; `retry` as for `RedisConnection.command` (only for scripts safe to repeat). */
  async run<T>(conn: RedisConnection, keys: readonly string[], args: readonly string[], options: { retry?: boolean } = {}): Promise<T> {
    if (keys.length !== this.keyCount) throw new Error(`${this.name} takes ${this.keyCount} keys, got ${keys.length}`);
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await conn.command<T>(['EVALSHA', this.sha, ...tail], { retry: options.retry ?? false });
    } catch (error) {
      if (!(error instanceof RedisServerError) || error.redisCode !== 'NOSCRIPT') throw error;
      return conn.command<T>(['EVAL', this.source, ...tail], { retry: options.retry ?? false });
    }
  }
}
