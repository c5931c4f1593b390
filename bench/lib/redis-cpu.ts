import type { RedisConnection } from '../../src/redis/connection.js';

/**
 * CPU time redis-server has used so far (user + system, ms), from INFO cpu. Read before and after
 * a round, it tells what the server spent per event: the same work for every client, unless one
 * sends more or smaller commands.
 */
export async function redisCpuMs(conn: RedisConnection): Promise<number> {
  const info = await conn.command<string>(['INFO', 'cpu']);
  const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? NaN);
  return (field('used_cpu_user') + field('used_cpu_sys')) * 1000;
}
