import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TypedEmitter } from './worker-events.js';

interface Events {
  tick: { n: number };
  error: { error: unknown; context: string };
}

test('listeners get payloads; once fires once; off removes', () => {
  const emitter = new TypedEmitter<Events>();
  const seen: number[] = [];
  const listener = (p: { n: number }) => seen.push(p.n);
  emitter.on('tick', listener);
  emitter.once('tick', (p) => seen.push(p.n * 10));
  emitter.emit('tick', { n: 1 });
  emitter.emit('tick', { n: 2 });
  emitter.off('tick', listener);
  emitter.emit('tick', { n: 3 });
  assert.deepEqual(seen, [1, 10, 2]);
});

test('an error with no listener goes to the fallback instead of throwing', () => {
  const fallback: string[] = [];
  const emitter = new TypedEmitter<Events>((name) => fallback.push(String(name)));
  emitter.emit('error', { error: new Error('x'), context: 'test' });
  assert.deepEqual(fallback, ['error']);
});

test('a throwing listener is reported as an error event, not thrown', () => {
  const emitter = new TypedEmitter<Events>();
  const errors: string[] = [];
  emitter.on('error', (e) => errors.push(e.context));
  emitter.on('tick', () => {
    throw new Error('listener bug');
  });
  emitter.emit('tick', { n: 1 });
  assert.deepEqual(errors, ['a listener of tick']);
});
