import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidOptionError } from '../errors.js';
import { AnalyticsSink } from './analytics.js';
import { createSink } from './create-sink.js';
import { JsonlFileSink } from './jsonl-file.js';
import { PostgresSink } from './postgres.js';
import { SqliteSink } from './sqlite.js';
import { StdoutSink } from './stdout.js';
import { StreamSink } from './stream.js';
import { WebhookSink } from './webhook.js';

test('builds each sink type from plain config, without connecting or opening anything', async () => {
  const sinks = [
    [createSink({ type: 'sqlite', path: '/nonexistent/dir/x.db', table: 'orders' }), SqliteSink, 'sqlite:orders', true],
    [createSink({ type: 'postgres', connectionString: 'postgres://u@127.0.0.1:1/db', table: 'orders' }), PostgresSink, 'postgres:orders', true],
    [createSink({ type: 'webhook', url: 'https://hooks.example.com/orders', secret: 's' }), WebhookSink, 'webhook:hooks.example.com', false],
    [createSink({ type: 'analytics', table: 'stats', window: '1m', database: { type: 'sqlite', path: '/nonexistent/x.db' } }), AnalyticsSink, 'analytics:stats', true],
    [createSink({ type: 'stream', stream: 'events:copy', url: 'redis://127.0.0.1:1' }), StreamSink, 'stream:events:copy', true],
    [createSink({ type: 'file', path: 'out/orders.jsonl' }), JsonlFileSink, 'file:out/orders.jsonl', false],
    [createSink({ type: 'jsonl', path: 'out/orders.jsonl', fsync: true }), JsonlFileSink, 'file:out/orders.jsonl', false],
    [createSink({ type: 'stdout' }), StdoutSink, 'stdout', false],
  ] as const;
  for (const [sink, kind, name, idempotent] of sinks) {
    assert.ok(sink instanceof kind, name);
    assert.equal(sink.name, name);
    assert.equal(sink.idempotent, idempotent, name);
    await sink.close();
  }
});

test('errors name the key, under the `at` prefix', () => {
  const fails = (config: unknown, option: string, message?: RegExp) =>
    assert.throws(
      () => createSink(config, { at: 'pipelines.orders.sinks[1]' }),
      (e: unknown) => e instanceof InvalidOptionError && e.option === option && (!message || message.test(e.message)),
      `${JSON.stringify(config)} → ${option}`,
    );
  fails({ type: 'kafka' }, 'pipelines.orders.sinks[1].type', /one of `sqlite`, `postgres`, `webhook`, `analytics`, `stream`, `file`, `jsonl`, `stdout`/);
  fails({ table: 'x' }, 'pipelines.orders.sinks[1].type');
  fails('sqlite', 'pipelines.orders.sinks[1]');
  fails({ type: 'sqlite', tabel: 'orders' }, 'pipelines.orders.sinks[1].tabel', /did you mean `table`/);
  fails({ type: 'sqlite', table: 'orders', columns: { amount: 'money' } }, 'pipelines.orders.sinks[1].columns.amount.type');
  fails({ type: 'webhook', url: 'https://x', timeout: -1 }, 'pipelines.orders.sinks[1].timeout');
  fails({ type: 'webhook', url: 'https://x', backoff: { initial: 'soon' } }, 'pipelines.orders.sinks[1].backoff.initial');
  fails({ type: 'webhook', url: 'https://x', backoff: { initial: '1s', max: '10ms' } }, 'pipelines.orders.sinks[1].backoff.max');
  fails({ type: 'stream', stream: 'x', idempotency: { window: 'ever' } }, 'pipelines.orders.sinks[1].idempotency.window');
  fails({ type: 'stream', stream: 'x', retention: { maxLen: 'many' } }, 'pipelines.orders.sinks[1].retention.maxLen');
  fails({ type: 'analytics', table: 'stats', window: '1m', groupBy: 'status', measures: [1] }, 'pipelines.orders.sinks[1].measures');
  fails({ type: 'stream', stream: '' }, 'pipelines.orders.sinks[1].stream');
  fails({ type: 'file' }, 'pipelines.orders.sinks[1].path');
  assert.throws(() => createSink({ type: 'sqlite', tabel: 'x' }), (e: unknown) => e instanceof InvalidOptionError && e.option === 'tabel');
});
