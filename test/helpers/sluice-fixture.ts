import { connect, type ConnectOptions, type Sluice } from '../../src/index.js';
import { useFixture, useRedis, type RedisFixture } from './fixtures.js';
import type { RedisServerOptions } from './redis-server.js';

// Apart from fixtures.ts so that a test file that needs no Sluice does not load the library.

export interface SluiceFixtureOptions {
  /** How the file's redis-server is started. @default {} (no AOF) */
  redis?: RedisServerOptions;
  /** Given to `connect` besides the server's URL. @default {} */
  connect?: Omit<ConnectOptions, 'url'>;
}

/** A redis-server of the file's own and one Sluice connected to it. */
export interface SluiceFixture extends RedisFixture {
  readonly sluice: Sluice;
}

/**
 * Starts a redis-server of the file's own and connects a Sluice to it before the file's tests;
 * closes the Sluice, then the server, after them.
 *
 * @example
 * const redis = useSluice({ redis: { appendonly: true }, connect: { publisher: { maxBatch: 100 } } });
 * test('publishes', async () => redis.sluice.stream(`${uniquePrefix('x')}orders`).publish({ a: '1' }));
 */
export function useSluice(options: SluiceFixtureOptions = {}): SluiceFixture {
  const redis = useRedis(options.redis);
  const sluice = useFixture('the Sluice', () => connect({ ...options.connect, url: redis.server.url }), (s) => s.close());
  return {
    get server() {
      return redis.server;
    },
    get sluice() {
      return sluice.value;
    },
  };
}
