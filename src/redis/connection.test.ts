import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { reconnectDelay, redactUrl } from './connection.js';

describe('reconnectDelay', () => {
  test('starts near 50 ms, doubles, and is capped at 2 s, with jitter in [base/2, base]', () => {
    const bases = [50, 100, 200, 400, 800, 1600, 2000, 2000];
    for (let retries = 0; retries < bases.length; retries++) {
      const base = bases[retries] as number;
      for (let sample = 0; sample < 200; sample++) {
        const delay = reconnectDelay(retries);
        assert.ok(delay >= base / 2 && delay <= base, `retry ${retries}: ${delay} ms outside [${base / 2}, ${base}]`);
      }
    }
    for (const retries of [20, 1000, 1e9]) {
      const delay = reconnectDelay(retries);
      assert.ok(delay >= 1000 && delay <= 2000, `retry ${retries}: ${delay}`);
    }
  });

  test('is jittered: many clients do not all wait the same time', () => {
    const delays = new Set(Array.from({ length: 50 }, () => reconnectDelay(6)));
    assert.ok(delays.size > 10, `only ${delays.size} distinct delays`);
  });
});

describe('redactUrl', () => {
  test('hides the password and keeps the rest', () => {
    const redacted = redactUrl('redis://app:s3cret@db.example.com:6380/2');
    assert.ok(!redacted.includes('s3cret'), redacted);
    assert.equal(redacted, 'redis://app:***@db.example.com:6380/2');
    assert.equal(redactUrl('rediss://:topsecret@host:6380'), 'rediss://:***@host:6380');
  });

  test('leaves URLs without a password as they are', () => {
    assert.equal(redactUrl('redis://127.0.0.1:6379'), 'redis://127.0.0.1:6379');
    assert.equal(redactUrl('redis://user@127.0.0.1:6379/0'), 'redis://user@127.0.0.1:6379/0');
  });
});
