import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClosedError, connect } from '../../src/index.js';
import { pairs } from '../../src/stream/stream-info.js';
import { pendingCount } from '../helpers/pending.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useSluice } from '../helpers/sluice-fixture.js';
import { cliLength, clientList } from '../helpers/streams.js';
import { waitFor } from '../helpers/wait.js';
import { closeAfterEach, delay, gate, never, pendingEntries } from './helpers.js';

const redis = useSluice();
const track = closeAfterEach();

async function groupState(stream: string, group: string): Promise<{ pending: number; lag: number }> {
  const groups = (await redis.sluice.connection.command<unknown[]>(['XINFO', 'GROUPS', stream])).map(pairs);
  const info = groups.find((g) => g.name === group);
  return { pending: Number(info?.pending), lag: Number(info?.lag) };
}

/** True while some connection waits in a blocking XREADGROUP. */
async function blockedInXreadgroup(): Promise<boolean> {
  return (await clientList(redis.server)).some((line) => / cmd=xreadgroup /.test(line) && / flags=b /.test(line));
}

describe('close', () => {
  test('close() stops fetching, lets in-flight handlers finish, and flushes their acks before it resolves', async () => {
    // A connection of its own, closed right after the worker, as a process does before it exits.
    const own = await connect({ url: redis.server.url });
    const stream = own.stream(`${uniquePrefix('close')}orders`);
    await stream.publishMany([{ n: 1 }, { n: 2 }, { n: 3 }]);
    const release = gate();
    let started = 0;
    let finished = 0;
    const worker = track(
      stream.consume({ group: 'billing', startFrom: '0', block: 50 }, async () => {
        started++;
        await release.promise;
        finished++;
      }),
    );
    await waitFor(() => started === 3);
    let closed = false;
    const closing = worker.close({ timeout: 5000 }).then(() => (closed = true));
    // Acknowledged only after the handler succeeded: all three are still pending.
    assert.equal(await pendingCount(redis.sluice, stream.name, 'billing'), 3);
    await stream.publishMany([{ n: 4 }, { n: 5 }]);
    assert.equal(closed, false, 'close waits for the running handlers');
    release.open();
    await closing;
    // Asked on another connection the moment close() resolved: the acks are already in.
    assert.deepEqual(await groupState(stream.name, 'billing'), { pending: 0, lag: 2 });
    await own.close();
    assert.equal(finished, 3);
    assert.equal(started, 3, 'nothing fetched after close()');
  });

  test('a handler that outlives close({ timeout }): close resolves then, the signal aborts, the entry stays pending for another worker', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('close')}orders`);
    const stuck = await stream.publish({ order_id: 'stuck' });
    const late = await stream.publish({ order_id: 'late' });
    let abortReason: unknown;
    let lateAborted: boolean | undefined;
    const lateGate = gate();
    const started = new Set<string>();
    const first = track(
      stream.consume({ group: 'billing', consumer: 'first', startFrom: '0', block: 50, claimIdle: 60_000 }, async (event, ctx) => {
        started.add(event.id);
        if (event.fields.order_id === 'stuck') {
          ctx.signal.addEventListener('abort', () => (abortReason = ctx.signal.reason));
          await never();
        }
        // Looks at its signal only after close() gave up on it.
        await lateGate.promise;
        lateAborted = ctx.signal.aborted;
        throw new Error('aborted');
      }),
    );
    await waitFor(() => started.size === 2);
    const t0 = performance.now();
    await first.close({ timeout: 200 });
    const elapsed = performance.now() - t0;
    assert.ok(elapsed >= 190 && elapsed < 1000, `close took ${elapsed.toFixed(0)} ms`);
    assert.ok(abortReason instanceof ClosedError, `the signal aborted with ${String(abortReason)}`);
    lateGate.open();
    await waitFor(() => lateAborted !== undefined);
    assert.equal(lateAborted, true, 'a signal first read after close() gave up is aborted too');
    // Neither acknowledged nor dead-lettered.
    assert.deepEqual(
      (await pendingEntries(redis.sluice, stream.name, 'billing')).map((p) => [p.id, p.consumer, p.deliveries]),
      [
        [stuck, 'first', 1],
        [late, 'first', 1],
      ],
    );
    assert.equal(await cliLength(redis.server, `{${stream.name}}:dlq`), 0);

    const redelivered: Array<[string, number]> = [];
    const second = track(
      stream.consume({ group: 'billing', consumer: 'second', block: 50, claimIdle: 100 }, (event, ctx) => {
        redelivered.push([event.id, ctx.deliveryCount]);
      }),
    );
    await waitFor(() => redelivered.length === 2, { timeout: 5000, message: 'the new worker picks the entries up' });
    await second.idle();
    assert.deepEqual(redelivered.sort(), [
      [stuck, 2],
      [late, 2],
    ].sort());
    assert.equal(await pendingCount(redis.sluice, stream.name, 'billing'), 0);
  });

  test('closing the Sluice connection stops its workers (no orphaned blocking reads)', async () => {
    const own = await connect({ url: redis.server.url });
    const stream = own.stream(`${uniquePrefix('close')}orders`);
    const worker = track(stream.consume({ group: 'billing', consumer: 'orphan', block: 50, claimIdle: 60, removeIdleConsumers: 0 }, () => undefined));
    await worker.ready;
    const fetchClient = (line: string) => line.includes(' name=sluice:billing:orphan ');
    assert.ok((await clientList(redis.server)).some(fetchClient));
    await own.close();
    await waitFor(async () => !(await clientList(redis.server)).some(fetchClient), { timeout: 5000, message: 'the fetch connection is closed' });
  });
});

describe('pause, resume and idle', () => {
  test('pause() stops fetching: no handler call while paused, even for a read already waiting; resume() goes on', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('pause')}orders`);
    let calls = 0;
    const worker = track(
      stream.consume({ group: 'billing', block: 1000 }, () => {
        calls++;
      }),
    );
    await worker.ready;
    await stream.publishMany([{ n: 1 }, { n: 2 }]);
    await waitFor(() => calls === 2);
    await waitFor(blockedInXreadgroup, { message: 'the worker waits for new events' });
    worker.pause();
    assert.equal(worker.paused, true);
    await stream.publishMany([{ n: 3 }, { n: 4 }, { n: 5 }]);
    // The read that was waiting has returned (with the new events) and no new read is sent.
    await waitFor(async () => !(await blockedInXreadgroup()), { timeout: 3000 });
    // Nothing to wait for when asserting that nothing happens: give a new read (or a handler
    // call) a moment to show up.
    await delay(100);
    assert.equal(await blockedInXreadgroup(), false, 'no read while paused');
    assert.equal(calls, 2, 'no handler call while paused');
    worker.resume();
    await waitFor(() => calls === 5, { message: () => `${calls} calls after resume()` });
    await worker.idle();
    assert.equal(calls, 5);
    assert.equal(await pendingCount(redis.sluice, stream.name, 'billing'), 0);
  });

  test('idle() resolves once everything is processed and acknowledged', async () => {
    const stream = redis.sluice.stream(`${uniquePrefix('idle')}orders`);
    await stream.publishMany(Array.from({ length: 50 }, (_, i) => ({ n: i })));
    let done = 0;
    const worker = track(
      stream.consume({ group: 'billing', startFrom: '0', block: 50, concurrency: 4 }, async () => {
        await delay(1);
        done++;
      }),
    );
    await worker.idle();
    assert.equal(done, 50);
    assert.deepEqual(await groupState(stream.name, 'billing'), { pending: 0, lag: 0 });
  });

  test('idle() waits for entries pending on other consumers to be reclaimed and processed', async () => {
    const name = `${uniquePrefix('idle')}orders`;
    const stream = redis.sluice.stream(name);
    await redis.server.cli('XGROUP', 'CREATE', name, 'billing', '$', 'MKSTREAM');
    const held = [await redis.server.cli('XADD', name, '*', 'n', '1'), await redis.server.cli('XADD', name, '*', 'n', '2')];
    await redis.server.cli('XREADGROUP', 'GROUP', 'billing', 'dead-pod', 'COUNT', '2', 'STREAMS', name, '>');
    const seen: string[] = [];
    const worker = track(
      stream.consume({ group: 'billing', block: 50, claimIdle: 300 }, (event) => {
        seen.push(event.id);
      }),
    );
    await worker.idle();
    assert.deepEqual(seen.sort(), held.sort());
    assert.deepEqual(await groupState(name, 'billing'), { pending: 0, lag: 0 });
  });
});
