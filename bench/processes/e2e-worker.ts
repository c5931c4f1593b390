/**
 * The worker of one end-to-end round, in its own process: first drains the producer's warm-up
 * (untimed, so the JIT has compiled the consume path), then starts consuming (so it waits on the
 * empty stream or queue), prints `ready`, and once `events` events are handled and acknowledged
 * prints `done {endedAt, cpuMs, handled}`. CPU is counted from the `go` line.
 */
import { connect } from '../../src/index.js';
import { startBullmqWorker } from '../baselines/bullmq.js';
import { connectNodeRedis, nodeRedisGroupWorker } from '../baselines/node-redis-group-worker.js';
import { RunnerChannel, runChild } from '../lib/runner-channel.js';
import { epochMs } from '../lib/stats.js';
import { GROUP, SLUICE_CONSUME_OPTIONS, sluiceDrain } from '../scenarios/consume.js';
import type { RoundOptions } from './round-options.js';

export interface E2eWorkerDone {
  /** Epoch ms when the last event was known acknowledged. */
  endedAt: number;
  cpuMs: number;
  handled: number;
}

runChild(async () => {
  const channel = new RunnerChannel<RoundOptions>();
  const { method, url, key, events, warmupKey, warmupEvents } = channel.options;
  let handled = 0;
  /** Resolves once every event is handled and acknowledged. */
  let finished: Promise<unknown>;
  let close: () => Promise<void>;
  let go: () => void = () => undefined;
  if (method === 'sluice') {
    const sluice = await connect({ url });
    await sluiceDrain(sluice, warmupKey);
    let acked: (done: Promise<void>) => void = () => undefined;
    finished = new Promise<void>((resolve) => (acked = resolve));
    // The no-op handler counts; at the last event it asks for `idle`: the group has nothing
    // undelivered and nothing pending, so the last batch's XACK has been applied.
    const worker = sluice.stream(key).consume(SLUICE_CONSUME_OPTIONS, () => {
      if (++handled === events) acked(worker.idle());
    });
    await worker.ready;
    close = () => sluice.close();
  } else if (method === 'node-redis') {
    const client = await connectNodeRedis(url);
    let warmed = 0;
    await nodeRedisGroupWorker(client, { key: warmupKey, group: GROUP, consumer: 'baseline', handler: () => warmed++, done: () => warmed >= warmupEvents });
    let started: () => void = () => undefined;
    const goSeen = new Promise<void>((resolve) => (started = resolve));
    go = started;
    finished = goSeen.then(() =>
      nodeRedisGroupWorker(client, { key, group: GROUP, consumer: 'baseline', handler: () => handled++, done: () => handled >= events }),
    );
    close = () => client.close();
  } else {
    let warmed: () => void = () => undefined;
    const warmedUp = new Promise<void>((resolve) => (warmed = resolve));
    let warmupHandled = 0;
    const warmupWorker = await startBullmqWorker({ url, queue: warmupKey, onCompleted: () => ++warmupHandled === warmupEvents && warmed() });
    await warmedUp;
    await warmupWorker.close();
    let completed: () => void = () => undefined;
    finished = new Promise<void>((resolve) => (completed = resolve));
    const worker = await startBullmqWorker({
      url,
      queue: key,
      onCompleted: () => {
        if (++handled === events) completed();
      },
    });
    close = () => worker.close();
  }
  channel.send('ready');
  await channel.next('go');
  const cpu = process.cpuUsage();
  go();
  await finished;
  const endedAt = epochMs();
  const used = process.cpuUsage(cpu);
  await close();
  const done: E2eWorkerDone = { endedAt, cpuMs: (used.user + used.system) / 1000, handled };
  channel.finish('done', done);
});
