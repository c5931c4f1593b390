/**
 * The producer of the publish and end-to-end scenarios, in a process of its own (so no other
 * client's heap or JIT state sways its numbers): connects, publishes an untimed
 * warm-up (`warmupEvents` into `warmupKey`, so the JIT has compiled the publish path), prints
 * `ready`, waits for `go`, publishes `events` order events, prints `done {ms, cpuMs, startedAt}`;
 * with `rounds`, that many times, each `go {key}` naming the round's stream.
 */
import { Queue } from 'bullmq';
import { connect } from '../../src/index.js';
import { bullmqAddBulk, bullmqConnection } from '../baselines/bullmq.js';
import { nodeRedisXaddPipeline } from '../baselines/node-redis-xadd-pipeline.js';
import { RunnerChannel, runChild } from '../lib/runner-channel.js';
import type { Sample } from '../lib/stats.js';
import { sluicePublish } from '../scenarios/publish.js';
import type { RoundOptions } from './round-options.js';

runChild(async () => {
  const channel = new RunnerChannel<RoundOptions>();
  const { method, url, key, events, warmupKey, warmupEvents, rounds = 1 } = channel.options;
  let work: (key: string, events: number) => Promise<Sample>;
  let close: () => Promise<void>;
  if (method === 'sluice') {
    const sluice = await connect({ url });
    work = (k, n) => sluicePublish(sluice, k, n);
    close = () => sluice.close();
  } else if (method === 'node-redis') {
    // Connects inside, before its timing starts.
    work = (k, n) => nodeRedisXaddPipeline({ url, key: k, events: n });
    close = async () => undefined;
  } else {
    const connection = bullmqConnection(url);
    const queues: Queue[] = [];
    work = async (k, n) => {
      const queue = new Queue(k, { connection });
      queues.push(queue);
      await queue.waitUntilReady();
      return bullmqAddBulk(queue, n);
    };
    close = async () => {
      await Promise.all(queues.map((q) => q.close()));
    };
  }
  await work(warmupKey, warmupEvents);
  channel.send('ready');
  for (let round = 1; round <= rounds; round++) {
    const rest = (await channel.next('go')).trim();
    const sample = await work(rest === '' ? key : (JSON.parse(rest) as { key: string }).key, events);
    if (round < rounds) {
      channel.send('done', sample);
      continue;
    }
    await close();
    channel.finish('done', sample);
  }
});
