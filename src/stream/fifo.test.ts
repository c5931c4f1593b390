import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Fifo } from './fifo.js';

function contents<T>(fifo: Fifo<T>): T[] {
  return Array.from({ length: fifo.length }, (_, i) => fifo.at(i) as T);
}

describe('Fifo', () => {
  test('empty: length 0, and shift, peek, peekLast and at give undefined', () => {
    const fifo = new Fifo<number>();
    assert.equal(fifo.length, 0);
    assert.equal(fifo.shift(), undefined);
    assert.equal(fifo.peek(), undefined);
    assert.equal(fifo.peekLast(), undefined);
    assert.equal(fifo.at(0), undefined);
    assert.deepEqual(fifo.drain(), []);
  });

  test('values leave in the order they came, across growth and wrap-around', () => {
    const fifo = new Fifo<number>();
    let next = 0;
    let expected = 0;
    // Keep the ring part full while it grows, so the head wraps before and after each doubling.
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < 7; i++) fifo.push(next++);
      for (let i = 0; i < 4; i++) assert.equal(fifo.shift(), expected++);
    }
    assert.equal(fifo.length, next - expected);
    assert.equal(fifo.peek(), expected);
    assert.equal(fifo.peekLast(), next - 1);
    assert.deepEqual(contents(fifo), Array.from({ length: next - expected }, (_, i) => expected + i));
    while (fifo.length > 0) assert.equal(fifo.shift(), expected++);
    assert.equal(expected, next);
  });

  test('behaves as an array used as a queue, over a long random sequence of operations', () => {
    const fifo = new Fifo<number>();
    const model: number[] = [];
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let step = 0; step < 50_000; step++) {
      const r = random();
      if (r < 0.55) {
        fifo.push(step);
        model.push(step);
      } else if (r < 0.95) {
        assert.equal(fifo.shift(), model.shift());
      } else if (r < 0.99) {
        const index = Math.floor(random() * (model.length + 2)) - 1;
        assert.equal(fifo.at(index), model[index]);
      } else {
        assert.deepEqual(fifo.drain(), model.splice(0));
      }
      assert.equal(fifo.length, model.length);
      assert.equal(fifo.peek(), model[0]);
      assert.equal(fifo.peekLast(), model[model.length - 1]);
    }
  });

  test('drain returns everything oldest first and leaves the queue empty and usable', () => {
    const fifo = new Fifo<string>();
    for (let i = 0; i < 5000; i++) fifo.push(`v${i}`);
    for (let i = 0; i < 10; i++) fifo.shift();
    const drained = fifo.drain();
    assert.equal(drained.length, 4990);
    assert.equal(drained[0], 'v10');
    assert.equal(drained[4989], 'v4999');
    assert.equal(fifo.length, 0);
    fifo.push('again');
    assert.deepEqual(contents(fifo), ['again']);
  });

  test('a value that left is not kept alive by the queue (its slot is cleared)', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const fifo = new Fifo<object>();
    const refs: Array<WeakRef<object>> = [];
    // Built in a function of its own, so that no local variable of this test keeps them.
    (() => {
      for (let i = 0; i < 40; i++) {
        const value = { i };
        refs.push(new WeakRef(value));
        fifo.push(value);
      }
      for (let i = 0; i < 39; i++) fifo.shift();
    })();
    // WeakRef targets stay alive until the current job ends.
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    assert.deepEqual(
      refs.map((ref) => ref.deref() !== undefined),
      Array.from({ length: 40 }, (_, i) => i === 39),
      'only the value still queued is alive',
    );
    assert.equal(fifo.length, 1);
  });
});
