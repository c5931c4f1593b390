import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidOptionError } from '../errors.js';
import { parseListenAddress } from './metrics-endpoint.js';

test('--metrics-port takes a port, host:port or [ipv6]:port; loopback by default', () => {
  assert.deepEqual(parseListenAddress('9464'), { host: '127.0.0.1', port: 9464 });
  assert.deepEqual(parseListenAddress('0.0.0.0:9464'), { host: '0.0.0.0', port: 9464 });
  assert.deepEqual(parseListenAddress('[::1]:9464'), { host: '::1', port: 9464 });
  assert.deepEqual(parseListenAddress('localhost:0'), { host: 'localhost', port: 0 });
  for (const bad of ['', 'abc', '70000', ':9464', '::1:9464', '1.2.3.4:']) {
    assert.throws(() => parseListenAddress(bad), (error: unknown) => error instanceof InvalidOptionError && /--metrics-port/.test(error.message), bad);
  }
});
