import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidOptionError } from '../errors.js';
import type { Sink } from '../sinks/sink.js';
import type { PipelineConfig } from './config.js';
import { definePipeline, Pipeline } from './define-pipeline.js';

const base = {
  name: 'orders',
  source: { type: 'stream', stream: 'events:orders' },
  sinks: [{ type: 'sqlite', path: ':memory:', table: 'orders' }],
} as const satisfies PipelineConfig;

/** Asserts that the config is refused with an InvalidOptionError for `key`. */
function refused(config: unknown, key: string, message?: RegExp): void {
  assert.throws(
    () => definePipeline(config as PipelineConfig),
    (error: unknown) => {
      assert.ok(error instanceof InvalidOptionError, `expected an InvalidOptionError, got ${String(error)}`);
      assert.equal(error.option, key, error.message);
      if (message) assert.match(error.message, message);
      return true;
    },
  );
}

test('a valid pipeline: its name is the group, a new group starts at 0, batches of 100 with 50 ms linger, concurrency twice the batch', () => {
  const pipeline = definePipeline(base);
  assert.ok(pipeline instanceof Pipeline);
  assert.ok(Pipeline.is(pipeline));
  assert.equal(pipeline.name, 'orders');
  assert.equal(pipeline.stream, 'events:orders');
  assert.equal(pipeline.group, 'orders');
  assert.deepEqual(pipeline.plan.batch, { size: 100, lingerMs: 50 });
  assert.equal(pipeline.plan.consumer.concurrency, 200);
  assert.equal(pipeline.plan.consumer.startFrom, '0');
  assert.deepEqual(pipeline.plan.sinks.map((s) => s.name), ['sqlite:orders']);
  assert.equal(pipeline.config, base);
});

test('the group and start come from the stream source, else from consumer; concurrency follows the batch size', () => {
  const pipeline = definePipeline({ ...base, source: { type: 'stream', stream: 'events:orders', group: 'db', startFrom: '$' }, batch: { size: 10, linger: '1s' } });
  assert.equal(pipeline.group, 'db');
  assert.equal(pipeline.plan.consumer.startFrom, '$');
  assert.deepEqual(pipeline.plan.batch, { size: 10, lingerMs: 1000 });
  assert.equal(pipeline.plan.consumer.concurrency, 20);
  const generated = definePipeline({ ...base, source: { type: 'generator', stream: 'events:orders', count: 10 }, consumer: { group: 'load', concurrency: 150, maxDeliveries: 3 } });
  assert.equal(generated.group, 'load');
  assert.equal(generated.plan.consumer.concurrency, 150);
  assert.equal(generated.plan.consumer.maxDeliveries, 3);
  assert.equal(definePipeline({ ...base, batch: { size: 1 } }).plan.consumer.concurrency, 16);
});

test('sink names are unique within a pipeline; sink objects are taken as they are', () => {
  const own: Sink = { name: 'memory', idempotent: true, write: async () => {}, close: async () => {} };
  const pipeline = definePipeline({
    ...base,
    steps: [{ route: [{ when: 'status == "paid"', to: [{ type: 'sqlite', path: ':memory:', table: 'orders' }, own] }] }],
  });
  assert.deepEqual(pipeline.plan.sinks.map((s) => s.name), ['sqlite:orders', 'sqlite:orders#2', 'memory']);
  assert.equal(pipeline.plan.sinks[2]?.target, own);
  assert.deepEqual(pipeline.plan.fallback, [0]);
});

test('errors name the key path, down to a route case', () => {
  refused({ ...base, name: '' }, 'name');
  refused({ ...base, name: 'two words' }, 'name', /without spaces/);
  refused({ ...base, source: undefined }, 'source');
  refused({ ...base, source: { type: 'kafka', stream: 'x' } }, 'source.type', /`stream`, `http`, `stdin`, `file`, `generator`/);
  refused({ ...base, source: { type: 'stream', stream: 'has space' } }, 'source.stream', /spaces/);
  refused({ ...base, source: { type: 'stream', stream: 'x', startFrom: 'yesterday' } }, 'source.startFrom');
  refused({ ...base, source: { type: 'stream', stream: 'x', grup: 'a' } }, 'source.grup', /did you mean `group`/);
  refused({ ...base, steps: [{ filter: 'status ==' }] }, 'steps[0].filter', /CEL expression/);
  refused({ ...base, steps: [{ filter: 'true' }, { route: [{ when: 'double(amount) >', to: [{ type: 'stdout' }] }] }] }, 'steps[1].route[0].when', /CEL expression/);
  refused({ ...base, steps: [{ route: [{ when: 'true', to: [{ type: 'sqlite', path: ':memory:', table: '1x' }] }] }] }, 'steps[0].route[0].to[0].table');
  refused({ ...base, steps: [{ route: [{ when: 'true', to: [] }] }] }, 'steps[0].route[0].to');
  refused({ ...base, steps: [{ route: [{ default: [{ type: 'stdout' }] }, { when: 'true', to: [{ type: 'stdout' }] }] }] }, 'steps[0].route[0].default', /last case/);
  refused({ ...base, steps: [{ route: [{ when: 'true', to: [{ type: 'stdout' }], unless: 'x' }] }] }, 'steps[0].route[0].unless');
  refused({ ...base, steps: [{ route: [{ when: 'true', to: [{ type: 'stdout' }] }] }, { filter: 'true' }] }, 'steps[1]', /last step/);
  refused({ ...base, steps: [{ filter: 'true', map: { a: '"b"' } }] }, 'steps[0]');
  refused({ ...base, steps: [{ fliter: 'true' }] }, 'steps[0].fliter');
  refused({ ...base, steps: [{ map: { total: 'double(amount) *' } }] }, 'steps[0].map.total');
  refused({ ...base, steps: [{ map: { $key: 'order_id' } }] }, 'steps[0].map.$key', /metadata/);
  refused({ ...base, steps: [{ map: {} }] }, 'steps[0].map');
  refused({ ...base, sinks: [{ type: 'sqlite', path: ':memory:', tabel: 'x' }] }, 'sinks[0].tabel', /did you mean `table`/);
  refused({ ...base, sinks: [] }, 'sinks', /somewhere/);
  refused({ ...base, batch: { size: 0 } }, 'batch.size');
  refused({ ...base, batch: { linger: 'soon' } }, 'batch.linger');
  refused({ ...base, batch: { size: 500 }, consumer: { concurrency: 100 } }, 'consumer.concurrency', /batch\.size.*could never fill/);
  refused({ ...base, consumer: { maxDeliveries: 0 } }, 'consumer.maxDeliveries');
  refused({ ...base, consumer: { claimIdle: 'a while' } }, 'consumer.claimIdle');
  refused({ ...base, consumer: { backoff: { initial: 'soon' } } }, 'consumer.backoff.initial');
  refused({ ...base, consumer: { backoff: { initial: 500, max: 100 } } }, 'consumer.backoff.max');
  refused({ ...base, consumer: { concurency: 5 } }, 'consumer.concurency', /did you mean `concurrency`/);
  refused({ ...base, extra: true }, 'extra');
});

test('a route with nowhere to send unmatched events still counts as having sinks; the pipeline sinks are its fallback', () => {
  const pipeline = definePipeline({ name: 'r', source: base.source, steps: [{ route: [{ when: 'true', to: { type: 'stdout' } }] }] });
  assert.deepEqual(pipeline.plan.sinks.map((s) => s.name), ['stdout']);
  assert.deepEqual(pipeline.plan.fallback, []);
});

test('a map naming a module is checked for its shape now and imported by prepare()', async () => {
  const pipeline = definePipeline({ ...base, steps: [{ map: { module: './no-such-module.mjs' } }] }, { baseDir: '/nonexistent' });
  await assert.rejects(pipeline.prepare(), (error: unknown) => error instanceof InvalidOptionError && error.option === 'steps[0].map.module' && /no such file/.test(error.message));
  refused({ ...base, steps: [{ map: { module: '' } }] }, 'steps[0].map.module');
});

test('errors of a pipeline in a list carry the list position', () => {
  assert.throws(
    () => definePipeline({ ...base, batch: { size: -1 } }, { at: 'pipelines[3]' }),
    (error: unknown) => error instanceof InvalidOptionError && error.option === 'pipelines[3].batch.size',
  );
});
