import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { StdoutSink } from '../../src/index.js';
import { useTempDir } from '../helpers/fixtures.js';
import { context, orderEvents, sinkConformance, type StoredEvent } from './conformance.js';

const dir = useTempDir('sluice-test-stdout-');
let files = 0;

async function lines(path: string): Promise<string[]> {
  return existsSync(path) ? (await readFile(path, 'utf8')).split('\n').filter(Boolean) : [];
}

/** A file stream as the sink's output: written through the same Writable path as stdout. */
function fileOutput(): { path: string; output: WriteStream } {
  const path = join(dir.path, `out-${++files}.txt`);
  return { path, output: createWriteStream(path) };
}

sinkConformance(
  'stdout',
  { idempotent: false, ordered: true, storesFields: true, transientFailure: false, rejectsWrites: false, poisonEvent: false },
  async () => {
    const { path, output } = fileOutput();
    return {
      sink: new StdoutSink({ output }),
      read: async (): Promise<StoredEvent[]> => (await lines(path)).map((line) => JSON.parse(line) as StoredEvent),
      dispose: () => new Promise<void>((resolve) => output.end(resolve)),
    };
  },
);

describe('stdout sink', () => {
  test('prints JSON lines to the process stdout by default', async () => {
    const events = orderEvents(2);
    const script = `
      const { StdoutSink } = await import(${JSON.stringify(new URL('../../src/index.js', import.meta.url).href)});
      const sink = new StdoutSink();
      await sink.write(${JSON.stringify(events)}, { signal: new AbortController().signal });
      await sink.close();
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += String(chunk)));
    child.stderr.on('data', (chunk) => (stderr += String(chunk)));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, stderr);
    assert.deepEqual(stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown), events);
  });

  test('format text: one line per event for people', async () => {
    const { path, output } = fileOutput();
    const sink = new StdoutSink({ format: 'text', output });
    await sink.write(
      [
        { stream: 'events:orders', id: '1-0', time: 1, fields: { order_id: '12345', note: 'two words', empty: '' } },
        { stream: 'events:json', id: '2-0', time: 2, data: { a: 1 } },
      ],
      context(),
    );
    await sink.close();
    await new Promise<void>((resolve) => output.end(resolve));
    assert.deepEqual(await lines(path), ['events:orders 1-0 order_id=12345 note="two words" empty=""', 'events:json 2-0 {"a":1}']);
  });

  test('options are checked when the sink is built', () => {
    assert.throws(() => new StdoutSink({ format: 'yaml' } as never), /`format` to be `json` or `text`/);
    assert.throws(() => new StdoutSink({ output: {} } as never), /`output` to be a writable stream/);
  });
});
