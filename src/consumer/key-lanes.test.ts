import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyLanes } from './key-lanes.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

test('tasks of one key run one at a time in order; other keys run in parallel', async () => {
  const lanes = new KeyLanes();
  const log: string[] = [];
  const a1 = deferred();
  const first = lanes.run('a', async () => {
    log.push('a1 start');
    await a1.promise;
    log.push('a1 end');
  });
  const second = lanes.run('a', async () => {
    log.push('a2');
  });
  const other = lanes.run('b', async () => {
    log.push('b1');
  });
  await other;
  assert.deepEqual(log, ['a1 start', 'b1']);
  a1.resolve();
  await Promise.all([first, second]);
  assert.deepEqual(log, ['a1 start', 'b1', 'a1 end', 'a2']);
});

test('a failing task does not block the next of its key, and empty lanes are dropped', async () => {
  const lanes = new KeyLanes();
  const failed = lanes.run('k', async () => {
    throw new Error('boom');
  });
  const next = lanes.run('k', async () => undefined);
  await assert.rejects(failed, /boom/);
  await next;
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(lanes.size, 0);
});
