/**
 * The worker of a latency round: consumes the stream and records, for each event published in
 * the measured window, the time from its publish (`sent_at`) to its handler call. `go {from, to}`
 * gives the window (epoch ms); `expect {events}` how many events to wait for before reporting
 * `done {handled, latenciesUs}`.
 */
import { connect } from '../../src/index.js';
import { connectNodeRedis, nodeRedisGroupWorker } from '../baselines/node-redis-group-worker.js';
import { RawRedis, rawGroupWorker } from '../baselines/raw-redis.js';
import { RunnerChannel, runChild } from '../lib/runner-channel.js';
import { epochMs } from '../lib/stats.js';
import { GROUP } from '../scenarios/consume.js';
import type { LatencyMethod } from './latency-producer.js';

export interface LatencyWorkerOptions {
  method: LatencyMethod;
  url: string;
  key: string;
}

export interface LatencyWorkerDone {
  handled: number;
  /** CPU time of this process from `go` until the last event was handled. */
  cpuMs: number;
  /** Publish → handler, µs (whole), of the events published in the window, in arrival order. */
  latenciesUs: number[];
}

/** The value of `name` in a flat `[field, value, …]` list. */
function fieldOf(fields: string[], name: string): string | undefined {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

runChild(async () => {
  const channel = new RunnerChannel<LatencyWorkerOptions>();
  const { method, url, key } = channel.options;
  let from = Infinity;
  let to = -Infinity;
  const latenciesUs: number[] = [];
  let handled = 0;
  let expected = Infinity;
  let reached: () => void = () => undefined;
  const allHandled = new Promise<void>((resolve) => (reached = resolve));
  const handle = (sentAt: string | undefined) => {
    const now = epochMs();
    const sent = Number(sentAt);
    if (sent >= from && sent < to) latenciesUs.push(Math.round((now - sent) * 1000));
    if (++handled >= expected) reached();
  };
  let close: () => Promise<void>;
  let go: () => void = () => undefined;
  if (method === 'sluice') {
    const sluice = await connect({ url });
    // Every option at its default: a user's worker, not one tuned for this benchmark.
    const worker = sluice.stream(key).consume({ group: GROUP, consumer: 'sluice' }, (event) => handle(event.fields.sent_at));
    await worker.ready;
    close = () => sluice.close();
  } else {
    // The hand-written loops start at `go`, so their CPU is counted from there like Sluice's.
    let started: () => void = () => undefined;
    const goSeen = new Promise<void>((resolve) => (started = resolve));
    go = started;
    const done = () => handled >= expected;
    if (method === 'raw') {
      const redis = await RawRedis.connect(url);
      const loop = goSeen.then(() => rawGroupWorker(redis, { key, group: GROUP, consumer: 'raw', handler: (fields) => handle(fieldOf(fields, 'sent_at')), done }));
      close = async () => {
        await loop;
        await redis.close();
      };
    } else {
      const client = await connectNodeRedis(url);
      const loop = goSeen.then(() => nodeRedisGroupWorker(client, { key, group: GROUP, consumer: 'baseline', handler: (message) => handle(message.sent_at), done }));
      close = async () => {
        await loop;
        await client.close();
      };
    }
  }
  channel.send('ready');
  ({ from, to } = JSON.parse(await channel.next('go ')) as { from: number; to: number });
  const cpu = process.cpuUsage();
  go();
  ({ events: expected } = JSON.parse(await channel.next('expect ')) as { events: number });
  if (handled >= expected) reached();
  await allHandled;
  const used = process.cpuUsage(cpu);
  await close();
  const done: LatencyWorkerDone = { handled, cpuMs: (used.user + used.system) / 1000, latenciesUs };
  channel.finish('done', done);
});
