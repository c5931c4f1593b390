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

test('watchers get every event without taking it over: taken() stays false and the fallback still runs', () => {
  const fallback: number[] = [];
  const emitter = new TypedEmitter<Events>((_name, payload) => fallback.push((payload as { n: number }).n));
  const watched: number[] = [];
  const watcher = (p: { n: number }) => watched.push(p.n);
  emitter.watch('tick', watcher);
  assert.equal(emitter.has('tick'), true);
  assert.equal(emitter.taken('tick'), false);
  emitter.emit('tick', { n: 1 });
  const heard: number[] = [];
  emitter.on('tick', (p) => heard.push(p.n));
  assert.equal(emitter.taken('tick'), true);
  emitter.emit('tick', { n: 2 });
  emitter.unwatch('tick', watcher);
  emitter.emit('tick', { n: 3 });
  assert.deepEqual({ watched, heard, fallback }, { watched: [1, 2], heard: [2, 3], fallback: [1] });
});
