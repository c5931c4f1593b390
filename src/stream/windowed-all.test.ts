import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { windowedAll } from './windowed-all.js';

/** Operations settled by hand: `settle(i)` resolves the i-th one to `r<i>`. */
function manual() {
  const started: number[] = [];
  const handles = new Map<number, { resolve: (v: string) => void; reject: (e: Error) => void }>();
  let unsettled = 0;
  let most = 0;
  const start = (index: number) =>
    new Promise<string>((resolve, reject) => {
      started.push(index);
      most = Math.max(most, ++unsettled);
      handles.set(index, {
        resolve: (v) => (unsettled--, resolve(v)),
        reject: (e) => (unsettled--, reject(e)),
      });
    });
  const settle = (index: number) => {
    handles.get(index)?.resolve(`r${index}`);
    handles.delete(index);
  };
  return { start, started, handles, settle, most: () => most };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('windowedAll', () => {
  test('count within the window: every operation starts at once; results in index order', async () => {
    const ops = manual();
    const all = windowedAll(5, 5, ops.start);
    assert.deepEqual(ops.started, [0, 1, 2, 3, 4]);
    for (const i of [3, 1, 4, 0, 2]) ops.settle(i);
    assert.deepEqual(await all, ['r0', 'r1', 'r2', 'r3', 'r4']);
  });

  test('more than the window: at most `window` unsettled, started in index order as others settle', async () => {
    const ops = manual();
    const all = windowedAll(10, 3, ops.start);
    assert.deepEqual(ops.started, [0, 1, 2]);
    ops.settle(1);
    await tick();
    assert.deepEqual(ops.started, [0, 1, 2, 3]);
    // Then settle whatever is unsettled, newest first, until all ten ran.
    while (ops.handles.size > 0) {
      for (const i of [...ops.handles.keys()].reverse()) ops.settle(i);
      await tick();
    }
    assert.deepEqual(await all, Array.from({ length: 10 }, (_, i) => `r${i}`));
    assert.deepEqual(ops.started, Array.from({ length: 10 }, (_, i) => i));
    assert.equal(ops.most(), 3);
  });

  test('a rejection rejects the call with its error and starts nothing more', async () => {
    const ops = manual();
    const all = windowedAll(10, 2, ops.start);
    const failure = new Error('refused');
    ops.handles.get(0)?.reject(failure);
    await assert.rejects(all, (error) => error === failure);
    ops.settle(1);
    await tick();
    assert.deepEqual(ops.started, [0, 1]);
  });

  test('an operation that throws instead of returning a promise rejects the call', async () => {
    const failure = new Error('bad');
    const all = windowedAll(5, 1, (i) => {
      if (i === 1) throw failure;
      return Promise.resolve(i);
    });
    await assert.rejects(all, (error) => error === failure);
  });

  test('zero operations resolve to an empty array', async () => {
    assert.deepEqual(await windowedAll(0, 1, () => Promise.resolve(1)), []);
  });
});
