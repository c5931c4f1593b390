import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidOptionError, InvalidStreamIdError } from '../errors.js';
import { resolveConsumerOptions } from './options.js';

test('defaults are documented values', () => {
  const o = resolveConsumerOptions('events:orders', { group: 'billing' });
  assert.equal(o.group, 'billing');
  assert.equal(o.concurrency, 16);
  assert.equal(o.maxDeliveries, 5);
  assert.equal(o.claimIdleMs, 30_000);
  assert.equal(o.startFrom, '$');
  assert.equal(o.deadLetter, '{events:orders}:dlq');
  assert.equal(o.ordering, 'none');
  assert.match(o.consumer, /:\d+:\d+$/);
});

test('consumer names are unique per worker in a process', () => {
  const a = resolveConsumerOptions('s', { group: 'g' }).consumer;
  const b = resolveConsumerOptions('s', { group: 'g' }).consumer;
  assert.notEqual(a, b);
});

test('startFrom becomes the ID the group starts after', () => {
  assert.equal(resolveConsumerOptions('s', { group: 'g', startFrom: '0' }).startFrom, '0-0');
  assert.equal(resolveConsumerOptions('s', { group: 'g', startFrom: new Date(1000) }).startFrom, '999-18446744073709551615');
  assert.throws(() => resolveConsumerOptions('s', { group: 'g', startFrom: 'yesterday' }), InvalidStreamIdError);
});

test('bad options are refused when the worker is built, naming the option', () => {
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{}, /`group`/],
    [{ group: 'has space' }, /`group`/],
    [{ group: 'g', concurrency: 0 }, /`concurrency`/],
    [{ group: 'g', batchSize: 1.5 }, /`batchSize`/],
    [{ group: 'g', maxDeliveries: 0 }, /`maxDeliveries`/],
    [{ group: 'g', ordering: 'fifo' }, /`ordering`/],
    [{ group: 'g', claimIdle: 'soon' }, /`claimIdle`/],
    [{ group: 'g', key: 'customer' }, /`key`/],
  ];
  for (const [options, message] of bad) {
    assert.throws(() => resolveConsumerOptions('s', options as never), (e: unknown) => e instanceof Error && message.test(e.message) && (e instanceof InvalidOptionError || e.name.startsWith('Invalid')));
  }
});
