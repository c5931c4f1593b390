import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HttpError } from './http-error.js';
import { Router } from './router.js';

const noop = () => undefined;

describe('Router', () => {
  const router = new Router()
    .add({ method: 'POST', path: '/streams/:stream/events', handler: noop })
    .add({ method: 'GET', path: '/health', public: true, handler: noop })
    .add({ method: 'GET', path: '/assets/*', handler: noop });

  test('matches parameters, percent-decoded', () => {
    const match = router.match('POST', '/streams/events%3Aorders/events');
    assert.equal(match.kind, 'found');
    assert.deepEqual(match.kind === 'found' && match.params, { stream: 'events:orders' });
    const raw = router.match('POST', '/streams/events:orders/events');
    assert.deepEqual(raw.kind === 'found' && raw.params, { stream: 'events:orders' });
  });

  test('a GET route answers HEAD too', () => {
    assert.equal(router.match('HEAD', '/health').kind, 'found');
  });

  test('another method on a known path: the allowed methods, for 405 and Allow', () => {
    assert.deepEqual(router.match('GET', '/streams/x/events'), { kind: 'method', allow: ['POST'] });
    assert.deepEqual(router.match('DELETE', '/health'), { kind: 'method', allow: ['GET', 'HEAD'] });
  });

  test('unknown paths match nothing', () => {
    for (const path of ['/', '/streams/x', '/streams/x/events/y', '/healthz']) assert.deepEqual(router.match('GET', path), { kind: 'none' }, path);
  });

  test('a trailing * takes the rest of the path', () => {
    const match = router.match('GET', '/assets/js/app.js');
    assert.deepEqual(match.kind === 'found' && match.params, { '*': 'js/app.js' });
  });

  test('bad percent-encoding in a parameter is a 400', () => {
    assert.throws(() => router.match('POST', '/streams/%E0%A4%A/events'), (error: unknown) => error instanceof HttpError && error.status === 400);
  });

  test('refuses a route added twice', () => {
    assert.throws(() => new Router().add({ method: 'GET', path: '/a', handler: noop }).add({ method: 'GET', path: '/a', handler: noop }), /not already routed/);
  });
});
