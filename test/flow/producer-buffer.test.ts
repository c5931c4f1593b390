import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, test } from 'node:test';
import { BackpressureError, ClosedError, connect, InvalidOptionError, NotConnectedError, TimeoutError, type ConnectOptions, type Sluice } from '../../src/index.js';
import { RedisConnection } from '../../src/redis/connection.js';
import { ping } from '../../src/redis/managed-server.js';
import { Publisher } from '../../src/stream/publisher.js';
import { startRedisServer, uniquePrefix, type RedisServer } from '../helpers/redis-server.js';
import { cliRange } from '../helpers/streams.js';
import { waitFor } from '../helpers/wait.js';
import { OpenLoop, type LoopCall } from './open-loop.js';

// The producer's own bound: with Redis gone, a producer holds at most maxBuffered events and
// maxWaiting callers waiting for room, and every publish settles by its deadline with a typed
// error: nothing piles up, nothing hangs, however many publishes come.
let server: RedisServer;
const open: Array<{ close(): Promise<void> }> = [];

before(async () => {
  server = await startRedisServer();
});

after(async () => {
  await server?.close();
});

beforeEach(async () => {
  // A failed test may have left the server stopped.
  if (!(await ping(server.port, 200))) await server.start();
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((o) => o.close().catch(() => undefined)));
});

async function sluiceFor(options: ConnectOptions): Promise<Sluice> {
  const sluice = await connect({ url: server.url, ...options });
  open.push(sluice);
  return sluice;
}

interface Outcome {
  error: unknown;
  /** ms from the call to the rejection */
  after: number;
}

/** Calls `publish` and records when and how it failed (it must fail). */
function outcome(publish: () => Promise<string>): Promise<Outcome> {
  const started = Date.now();
  return publish().then(
    (id) => assert.fail(`expected the publish to fail, it stored ${id}`),
    (error: unknown) => ({ error, after: Date.now() - started }),
  );
}

const TIMEOUT = 2000;
/** How late past its deadline a publish may settle: timers on a busy 2-core machine. */
const SLACK = 700;

/** Every call ended within `deadlineMs` + SLACK of being made (the first late ones are shown). */
function assertAllWithin(calls: LoopCall[], deadlineMs: number): void {
  const first = (calls[0] as LoopCall).calledAt;
  const late = calls
    .filter((c) => c.tookMs === undefined || c.tookMs > deadlineMs + SLACK)
    .map((c) => ({ n: c.n, calledAfterMs: c.calledAt - first, tookMs: c.tookMs, error: c.error instanceof Error ? c.error.name : c.error }));
  assert.deepEqual(late.slice(0, 5), [], `${late.length} of ${calls.length} calls ended later than ${deadlineMs} + ${SLACK} ms`);
}

/** The `n` field of every entry of the stream, in stream order. */
async function storedNs(key: string): Promise<string[]> {
  return (await cliRange(server, key)).map(([, fields]) => fields[fields.indexOf('n') + 1] as string);
}

describe('producer buffer', () => {
  test("maxBuffered 10, onFull 'reject', Redis stopped: the 11th publish is refused at once; the 10 fail at their deadline", async () => {
    const sluice = await sluiceFor({ publisher: { maxBuffered: 10, onFull: 'reject' }, commandTimeout: '2s' });
    const stream = sluice.stream(`${uniquePrefix('buf')}reject`);
    await stream.publish({ n: 'warm' });
    await server.stop();
    const buffered = Array.from({ length: 10 }, (_, n) => outcome(() => stream.publish({ n })));
    const refused = await outcome(() => stream.publish({ n: 'eleventh' }));
    assert.ok(refused.error instanceof BackpressureError, String(refused.error));
    assert.equal(refused.error.code, 'ERR_BACKPRESSURE');
    assert.ok(refused.error.retryAfterMs > 0);
    assert.match(refused.error.message, /buffer is full \(10 events/);
    assert.ok(refused.after < 100, `refused after ${refused.after} ms`);

    for (const { error, after } of await Promise.all(buffered)) {
      assert.ok(error instanceof NotConnectedError, String(error));
      assert.ok(after >= TIMEOUT - 20 && after < TIMEOUT + 700, `failed after ${after} ms`);
    }
    // The slots are free again once they failed: with Redis back, publishing goes on.
    await server.start();
    await stream.publish({ n: 'after' });
  });

  test("maxBuffered 10, onFull 'block', Redis stopped: callers past the bound wait, and every publish fails by its deadline", async () => {
    const sluice = await sluiceFor({ publisher: { maxBuffered: 10, onFull: 'block' }, commandTimeout: '2s' });
    const stream = sluice.stream(`${uniquePrefix('buf')}block`);
    await stream.publish({ n: 'warm' });
    await server.stop();
    const first = Date.now();
    const buffered = Array.from({ length: 10 }, (_, n) => outcome(() => stream.publish({ n })));
    // Five more, later: they wait for room, and the buffered ten free theirs (failing at their
    // deadline) before these callers' own deadline; that must not restart their timeout.
    await waitFor(() => Date.now() - first >= 300, { interval: 5 });
    const waiting = Array.from({ length: 5 }, (_, n) => outcome(() => stream.publish({ n: 10 + n })));
    const results = await Promise.all([...buffered, ...waiting]);
    for (const { error, after } of results) {
      assert.ok(error instanceof TimeoutError || error instanceof NotConnectedError, String(error));
      assert.ok(after >= TIMEOUT - 20 && after < TIMEOUT + 700, `failed after ${after} ms`);
    }
  });

  test('memory stays bounded: the buffered count never exceeds maxBuffered while Redis is down; all go out once it is back', async () => {
    const conn = await RedisConnection.open({ url: server.url, commandTimeoutMs: 10_000, connectTimeoutMs: 1000 });
    const publisher = new Publisher(conn, 10_000, { maxBuffered: 10, maxWaiting: 190 });
    open.push({ close: () => publisher.close() }, conn);
    const name = `${uniquePrefix('buf')}bounded`;
    await publisher.send(['XADD', name, '*', 'n', 'warm']);
    await server.stop();
    let most = 0;
    const sample = setInterval(() => (most = Math.max(most, publisher.buffered)), 1);
    try {
      const sent = Array.from({ length: 200 }, (_, n) => {
        const promise = publisher.send(['XADD', name, '*', 'n', String(n)]);
        most = Math.max(most, publisher.buffered);
        return promise;
      });
      assert.equal(publisher.buffered, 10, 'ten held, the other callers wait for room');
      assert.equal(publisher.waiting, 190);
      await server.start();
      const ids = await Promise.all(sent);
      assert.equal(new Set(ids).size, 200);
      assert.ok(most <= 10, `at most 10 buffered, saw ${most}`);
      assert.equal(publisher.buffered, 0);
      const fields = (await server.cli('XRANGE', name, '-', '+')).split('\n').filter((_, i) => i % 3 === 2);
      // (This server keeps no AOF: the restart dropped `warm`.)
      assert.deepEqual(fields, Array.from({ length: 200 }, (_, n) => String(n)), 'all stored, in call order');
    } finally {
      clearInterval(sample);
    }
  });

  test('open loop while redis-server is killed (SIGKILL): at most maxBuffered + maxWaiting outstanding, every call settles by its deadline, callers past the bound are refused at once; after the restart the accepted events are stored in call order', async () => {
    const timeout = 1000;
    const sluice = await sluiceFor({ publisher: { maxBuffered: 200, maxWaiting: 300 }, commandTimeout: timeout });
    const name = `${uniquePrefix('buf')}open-loop`;
    const stream = sluice.stream(name);
    let refusedAtOnce = 0;
    sluice.on('backpressure', (event) => {
      if (event.limit === 'buffer' && event.action === 'reject' && event.waitMs === 0) refusedAtOnce++;
    });
    await stream.publish({ n: 'warm' });
    await server.kill('SIGKILL');

    // 100 calls every 5 ms, none awaited, until the held ones have failed and handed their slots
    // on twice over: the buffer, the line of waiting callers and the refusals all had their turn.
    const outage = new OpenLoop((n) => stream.publish({ n }));
    outage.start(100, 5);
    try {
      await waitFor(() => outage.ended(NotConnectedError).length >= 1000, {
        timeout: 20_000,
        message: () => `${outage.ended(NotConnectedError).length} NotConnectedError`,
      });
    } finally {
      await outage.stop();
    }
    assert.equal(outage.mostOutstanding, 500, 'the bound is reached, never passed');
    assertAllWithin(outage.calls, timeout);
    const refused = outage.ended(BackpressureError);
    const timedOut = outage.ended(TimeoutError);
    const unreachable = outage.ended(NotConnectedError);
    assert.equal(refused.length + timedOut.length + unreachable.length, outage.calls.length, 'each call failed with one of the three');
    assert.ok(refused.length > 0);
    // Callers that waited got the slots of the held publishes failing at their deadline (and then
    // failed at their own, Redis being still away); a caller whose deadline came first, in line,
    // failed with TimeoutError.
    assert.ok(unreachable.filter((c) => c.n >= 200).length >= 800, 'waiting callers were handed slots');
    for (const call of refused) {
      assert.ok(call.tookMs !== undefined && call.tookMs < 100, `refused after ${call.tookMs} ms`);
      const error = call.error as BackpressureError;
      assert.equal(error.code, 'ERR_BACKPRESSURE');
      assert.ok(error.retryAfterMs > 0);
      assert.match(error.message, /buffer is full \(200 events.*300 publishes already wait for room.*maxWaiting/);
    }
    assert.equal(refusedAtOnce, refused.length, "each refusal reported as 'backpressure' { limit: 'buffer', action: 'reject', waitMs: 0 }");
    // Waiting callers and held events alike fail at their deadline, not before: the call + timeout.
    for (const call of [...timedOut, ...unreachable]) assert.ok((call.tookMs as number) >= timeout - 20, `failed after ${call.tookMs} ms`);

    // Back up (empty: no AOF). A burst past the bound with Redis up: 200 buffered, 300 wait, 500
    // refused at once; the accepted ones are stored, once each, in call order.
    await server.start();
    const after = new OpenLoop((n) => stream.publish({ n }));
    after.burst(1000);
    after.sample();
    await after.stop();
    assert.deepEqual(
      after.ended('stored').map((c) => c.n),
      Array.from({ length: 500 }, (_, n) => n),
    );
    assert.deepEqual(
      after.ended(BackpressureError).map((c) => c.n),
      Array.from({ length: 500 }, (_, n) => 500 + n),
    );
    assert.deepEqual(await storedNs(name), Array.from({ length: 500 }, (_, n) => String(n)));
  });

  test('100,000 callers waiting for room while redis-server is killed: each settles by its deadline; the next caller is refused at once', async () => {
    const timeout = 3000;
    const conn = await RedisConnection.open({ url: server.url, commandTimeoutMs: timeout, connectTimeoutMs: 1000 });
    const publisher = new Publisher(conn, timeout, { maxBuffered: 1000, maxWaiting: 100_000 });
    open.push({ close: () => publisher.close() }, conn);
    const name = `${uniquePrefix('buf')}many-waiting`;
    await publisher.send(['XADD', name, '*', 'n', 'warm']);
    await server.kill('SIGKILL');
    const loop = new OpenLoop((n) => publisher.send(['XADD', name, '*', 'n', String(n)]));
    loop.burst(1000);
    // Flushed (their timeout starts there) before the waiting callers come.
    await new Promise((resolve) => setImmediate(resolve));
    // 100,001 more in rounds of 10,000, between which timers run: this test's own calls must not
    // hold the event loop past the deadlines it checks.
    for (let round = 0; round < 10; round++) {
      loop.burst(10_000);
      await new Promise((resolve) => setImmediate(resolve));
    }
    loop.burst(1);
    assert.equal(publisher.buffered, 1000);
    assert.equal(publisher.waiting, 100_000);
    await loop.stop();
    assertAllWithin(loop.calls, timeout);
    assert.deepEqual(
      loop.ended(BackpressureError).map((c) => c.n),
      [101_000],
    );
    // Each buffered publish fails at its deadline and hands its slot to the first waiting caller,
    // which fails at its own (Redis is still away) and hands it on; the others' deadline comes
    // while they wait.
    assert.equal(loop.ended(TimeoutError).length + loop.ended(NotConnectedError).length, 101_000);
    assert.ok(loop.ended(TimeoutError).length > 0);
    assert.ok(loop.ended(NotConnectedError).length > 1000, 'waiting callers were handed slots');
    assert.equal(publisher.buffered, 0);
    assert.equal(publisher.waiting, 0);
  });

  test('refused past maxWaiting while Redis is away: retryAfterMs says when the oldest held publish will have failed and freed a place', async () => {
    const sluice = await sluiceFor({ publisher: { maxBuffered: 10, maxWaiting: 5 }, commandTimeout: TIMEOUT });
    const stream = sluice.stream(`${uniquePrefix('buf')}retry-after`);
    // Gone before the publisher's first connection: its first flush holds the ten buffered ones
    // for the connection (a batch already written when the socket drops is held a moment later).
    await server.kill('SIGKILL');
    const loop = new OpenLoop((n) => stream.publish({ n }));
    loop.burst(15);
    await new Promise((resolve) => setImmediate(resolve));
    const refused = await outcome(() => stream.publish({ n: 'sixteenth' }));
    assert.ok(refused.error instanceof BackpressureError, String(refused.error));
    assert.ok(refused.after < 100, `refused after ${refused.after} ms`);
    assert.ok(
      refused.error.retryAfterMs > TIMEOUT - 500 && refused.error.retryAfterMs <= TIMEOUT,
      `retryAfterMs ${refused.error.retryAfterMs}, the held publishes fail about ${TIMEOUT} ms from now`,
    );
    await loop.stop();
    assert.equal(loop.ended(NotConnectedError).length + loop.ended(TimeoutError).length, 15);
  });

  test("close() refuses the callers still waiting for room at once (ClosedError) and waits for the buffered ones", async () => {
    const sluice = await connect({ url: server.url, publisher: { maxBuffered: 2 }, commandTimeout: 1000 });
    const stream = sluice.stream(`${uniquePrefix('buf')}close`);
    await stream.publish({ n: 'warm' });
    await server.kill('SIGKILL');
    const loop = new OpenLoop((n) => stream.publish({ n }));
    loop.burst(4);
    const closing = Date.now();
    const closed = sluice.close();
    await waitFor(() => loop.ended(ClosedError).length === 2, { message: 'the two waiting callers refused' });
    assert.ok(Date.now() - closing < 200, 'refused at once, not at their deadline');
    await closed;
    assert.deepEqual(
      loop.ended(NotConnectedError).map((c) => c.n),
      [0, 1],
    );
    assert.deepEqual(
      loop.ended(ClosedError).map((c) => c.n),
      [2, 3],
    );
  });

  test('maxWaiting: a whole number ≥ 0 (0: refused at once when the buffer is full), checked by connect()', async () => {
    for (const bad of [-1, 1.5, Number.POSITIVE_INFINITY, '10']) {
      await assert.rejects(
        connect({ url: server.url, publisher: { maxWaiting: bad as number } }),
        (error: unknown) => error instanceof InvalidOptionError && error.code === 'ERR_INVALID_OPTION' && /publisher\.maxWaiting/.test(error.message) && /whole number ≥ 0/.test(error.message),
      );
    }
    const sluice = await sluiceFor({ publisher: { maxBuffered: 1, maxWaiting: 0 }, commandTimeout: 1000 });
    const stream = sluice.stream(`${uniquePrefix('buf')}no-waiting`);
    await server.kill('SIGKILL');
    const held = outcome(() => stream.publish({ n: 1 }));
    const refused = await outcome(() => stream.publish({ n: 2 }));
    assert.ok(refused.error instanceof BackpressureError, String(refused.error));
    assert.ok(refused.after < 100);
    assert.ok((await held).error instanceof NotConnectedError);
  });

  test('publishMany of more events than maxBuffered + maxWaiting, Redis up: all stored in order, none refused, none waiting for room', async () => {
    const sluice = await sluiceFor({ publisher: { maxBuffered: 50, maxWaiting: 10 } });
    const name = `${uniquePrefix('buf')}many`;
    const stream = sluice.stream(name);
    // A publish that waits for room or is refused by the buffer is reported: none may be.
    const full: string[] = [];
    sluice.on('backpressure', (event) => full.push(`${event.limit} ${event.action}`));
    const ids = await stream.publishMany(Array.from({ length: 2000 }, (_, n) => ({ n })));
    assert.equal(ids.length, 2000);
    assert.deepEqual(full, [], 'at most maxBuffered of the call held at once');
    assert.deepEqual(await storedNs(name), Array.from({ length: 2000 }, (_, n) => String(n)));
    assert.deepEqual((await cliRange(server, name)).map(([id]) => id), ids, 'the IDs resolved are those stored, in order');
  });
});
