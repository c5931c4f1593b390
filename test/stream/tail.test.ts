import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClosedError, connect, type FieldsEvent } from '../../src/index.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useSluice } from '../helpers/sluice-fixture.js';
import { blockedInXread, clientList, collect, commandCalls, drainInBackground } from '../helpers/streams.js';
import { waitFor } from '../helpers/wait.js';

const redis = useSluice();

/** A read that never wakes must fail the test, not hang the run. */
const LIMIT = { timeout: 15_000 };
const untilBlocked = () => waitFor(() => blockedInXread(redis.server), { timeout: 5000, message: 'a client blocked in XREAD' });
const clientCount = async () => (await clientList(redis.server)).length;

describe('tail (read from $ with block)', () => {
  test('a blocked read wakes on a new event promptly, and skips older events', LIMIT, async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('tail')}orders`);
    await stream.publishMany([{ n: 'old-1' }, { n: 'old-2' }]);
    const reader = stream.read({ block: 5000 });
    const next = reader.next();
    await untilBlocked();
    const started = Date.now();
    const id = await stream.publish({ n: 'new' });
    const result = await next;
    const elapsed = Date.now() - started;
    assert.equal(result.done, false);
    assert.equal((result.value as FieldsEvent).id, id);
    assert.deepEqual((result.value as FieldsEvent).fields, { n: 'new' });
    assert.ok(elapsed < 1000, `woke after ${elapsed} ms (block is 5000 ms)`);
    await reader.return();
  });

  test('events appended between two XREADs are not missed', LIMIT, async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('tail')}orders`);
    const reader = stream.read({ block: 5000, count: 1 });
    const first = reader.next();
    await untilBlocked();
    const ids = await stream.publishMany([{ n: '1' }, { n: '2' }, { n: '3' }]);
    const seen = [(await first).value as FieldsEvent];
    // The reader is not in XREAD while these are appended.
    const more = [...ids, ...(await stream.publishMany([{ n: '4' }, { n: '5' }]))];
    while (seen.length < more.length) seen.push((await reader.next()).value as FieldsEvent);
    assert.deepEqual(seen.map((e) => e.id), more);
    await reader.return();
  });

  test('a non-blocking read from $ returns nothing, even when the stream has events', LIMIT, async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('tail')}orders`);
    await stream.publishMany([{ n: '1' }, { n: '2' }]);
    assert.deepEqual(await collect(stream.read()), []);
    assert.deepEqual(await collect(stream.read({ from: '$' })), []);
  });

  test('a blocked read keeps waiting across BLOCK timeouts (finite BLOCK, never BLOCK 0)', LIMIT, async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('tail')}orders`);
    const reader = stream.read({ block: 50 });
    const next = reader.next();
    await untilBlocked();
    const xreads = await commandCalls(redis.server, 'xread');
    await waitFor(async () => (await commandCalls(redis.server, 'xread')) >= xreads + 3, { timeout: 5000, message: 'the reader re-issued XREAD after its BLOCK expired' });
    const id = await stream.publish({ n: 'late' });
    assert.equal(((await next).value as FieldsEvent).id, id);
    await reader.return();
  });

  test('an AbortSignal ends a blocked read promptly and closes its connection', LIMIT, async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('tail')}orders`);
    const clientsBefore = await clientCount();
    const controller = new AbortController();
    const seen: FieldsEvent[] = [];
    const loop = (async () => {
      for await (const event of stream.read({ block: 5000, signal: controller.signal })) seen.push(event);
    })();
    await untilBlocked();
    assert.equal(await clientCount(), clientsBefore + 1, 'the blocking read has its own connection');
    const started = Date.now();
    controller.abort();
    await loop;
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 1000, `ended ${elapsed} ms after the abort (block is 5000 ms)`);
    assert.deepEqual(seen, []);
    await waitFor(async () => (await clientCount()) === clientsBefore, { timeout: 5000, message: 'the dedicated connection is closed' });
    assert.equal(await blockedInXread(redis.server), false);
  });

  test('an abort at any moment of a blocking read, its start included, ends it quietly', LIMIT, async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('tail')}orders`);
    await stream.publish({ n: '1' });
    const clientsBefore = await clientCount();
    for (let run = 0; run < 60; run++) {
      const controller = new AbortController();
      const loop = (async () => {
        for await (const _event of stream.read({ block: 5000, signal: controller.signal })) {
          // nothing is published meanwhile
        }
      })();
      // Spread the abort over the read's start: connecting, resolving `$`, the first XREAD.
      await new Promise((resolve) => setTimeout(resolve, run % 8));
      controller.abort();
      await loop;
    }
    await waitFor(async () => (await clientCount()) === clientsBefore, { timeout: 5000, message: 'every dedicated connection is closed' });
  });

  test('an aborted signal ends the read before it starts', LIMIT, async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('tail')}orders`);
    await stream.publish({ n: '1' });
    const xreads = await commandCalls(redis.server, 'xread');
    assert.deepEqual(await collect(stream.read({ from: '0', block: 5000, signal: AbortSignal.abort() })), []);
    assert.equal(await commandCalls(redis.server, 'xread'), xreads);
  });

  test('break ends a blocked read and closes its dedicated connection', LIMIT, async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('tail')}orders`);
    // Published before the count, so whatever connection publishing uses is already open.
    await stream.publish({ n: 'before' });
    const clientsBefore = await clientCount();
    let got: FieldsEvent | undefined;
    const loop = (async () => {
      for await (const event of stream.read({ block: 5000 })) {
        got = event;
        break;
      }
    })();
    await untilBlocked();
    assert.equal(await clientCount(), clientsBefore + 1);
    const id = await stream.publish({ n: '1' });
    await loop;
    assert.equal(got?.id, id);
    await waitFor(async () => (await clientCount()) === clientsBefore, { timeout: 5000, message: 'the dedicated connection is closed' });
  });

  test('closing the Sluice ends its blocked reads and closes their connections', LIMIT, async () => {
    const clientsBefore = await clientCount();
    const own = await connect({ url: redis.server.url });
    const stream = own.stream(`${uniquePrefix('tail')}orders`);
    // Nothing is published: the read only ends when the Sluice closes.
    const loop = drainInBackground(stream.read({ block: 5000 }));
    await untilBlocked();
    const started = Date.now();
    await own.close();
    const failure = await loop;
    assert.equal(failure, undefined, 'the loop ends quietly');
    assert.ok(Date.now() - started < 1000, 'without waiting for the BLOCK to expire');
    await waitFor(async () => (await clientCount()) === clientsBefore, { timeout: 5000, message: 'all connections of the closed Sluice are gone' });
    // A read started after close() is refused.
    await assert.rejects(collect(stream.read({ block: 1000 })), (error: unknown) => error instanceof ClosedError && error.code === 'ERR_CLOSED');
    await assert.rejects(collect(stream.read({ from: '0' })), ClosedError);
  });

  test('publishes are not held up by a blocked read', LIMIT, async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('tail')}orders`);
    const other = redis.sluice.stream(`${uniquePrefix('tail')}other`);
    const reader = stream.read({ block: 5000 });
    const next = reader.next();
    await untilBlocked();
    const started = Date.now();
    await other.publishMany([{ n: '1' }, { n: '2' }]);
    assert.equal((await other.info()).length, 2);
    assert.ok(Date.now() - started < 1000);
    await stream.publish({ n: 'wake' });
    await next;
    await reader.return();
  });
});
