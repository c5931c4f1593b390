import type { Sluice } from '../../src/index.js';

/**
 * How many entries `group` has delivered and not yet acknowledged on `stream`: the count of
 * `XPENDING stream group` (its summary form), as Redis holds it in the PEL.
 *
 * @example
 * assert.equal(await pendingCount(redis.sluice, stream.name, 'billing'), 0);
 */
export async function pendingCount(sluice: Pick<Sluice, 'connection'>, stream: string, group: string): Promise<number> {
  const [count] = await sluice.connection.command<[number, ...unknown[]]>(['XPENDING', stream, group]);
  return Number(count);
}
