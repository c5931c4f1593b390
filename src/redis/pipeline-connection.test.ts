import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidOptionError } from '../errors.js';
import { handshakeCommands, parseRedisUrl } from './pipeline-connection.js';

describe('parseRedisUrl', () => {
  test('reads host, port, TLS, user, password and database like node-redis', () => {
    assert.deepEqual(parseRedisUrl('redis://127.0.0.1:6380'), { host: '127.0.0.1', port: 6380, tls: false, db: 0 });
    assert.deepEqual(parseRedisUrl('rediss://app:s%40cret@db.example.com/2'), {
      host: 'db.example.com',
      port: 6379,
      tls: true,
      db: 2,
      username: 'app',
      password: 's@cret',
    });
    assert.deepEqual(parseRedisUrl('redis://:pw@[::1]:7000'), { host: '::1', port: 7000, tls: false, db: 0, password: 'pw' });
  });

  test('refuses what is not a Redis URL', () => {
    for (const url of ['http://127.0.0.1:6379', 'not a url', 'redis://host/db']) assert.throws(() => parseRedisUrl(url), InvalidOptionError);
  });
});

describe('handshakeCommands', () => {
  test('AUTH with or without a user, SELECT when not db 0, then CLIENT SETNAME', () => {
    assert.deepEqual(handshakeCommands({ host: 'h', port: 1, tls: false, db: 0 }, 'n'), [['CLIENT', 'SETNAME', 'n']]);
    assert.deepEqual(handshakeCommands({ host: 'h', port: 1, tls: false, db: 3, password: 'p' }, 'n'), [
      ['AUTH', 'p'],
      ['SELECT', '3'],
      ['CLIENT', 'SETNAME', 'n'],
    ]);
    assert.deepEqual(handshakeCommands({ host: 'h', port: 1, tls: true, db: 0, username: 'u', password: 'p' }, 'n'), [
      ['AUTH', 'u', 'p'],
      ['CLIENT', 'SETNAME', 'n'],
    ]);
  });
});
