/**
 * A child process that drains one group, so its RSS is the consumer's own (not the benchmark
 * runner's, with its redis-benchmark output and other scenarios' garbage).
 *
 * `node drain-process.js '{"url":…,"key":…,"group":…,"method":"sluice"|"baseline"}'`: connects,
 * prints `ready`, waits for a `go` line on stdin, drains, prints `done {"ms":…,"cpuMs":…}`, exits.
 */
import { createInterface } from 'node:readline';
import { connect } from '../../src/index.js';
import { nodeRedisXreadgroupLoop } from '../baselines/node-redis-xreadgroup-loop.js';
import { sluiceDrain } from '../scenarios/consume.js';
import type { Sample } from './stats.js';

export interface DrainProcessOptions {
  url: string;
  key: string;
  group: string;
  method: 'sluice' | 'baseline';
}

async function main(): Promise<void> {
  const options = JSON.parse(process.argv[2] ?? '{}') as DrainProcessOptions;
  const sluice = options.method === 'sluice' ? await connect({ url: options.url }) : undefined;
  const lines = createInterface({ input: process.stdin });
  const go = new Promise<void>((resolve) => lines.on('line', (line) => line === 'go' && resolve()));
  console.log('ready');
  await go;
  lines.close();
  let sample: Sample;
  if (sluice) {
    sample = await sluiceDrain(sluice, options.key);
    await sluice.close();
  } else {
    sample = await nodeRedisXreadgroupLoop({ url: options.url, key: options.key, group: options.group, consumer: 'baseline' });
  }
  console.log(`done ${JSON.stringify(sample)}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
