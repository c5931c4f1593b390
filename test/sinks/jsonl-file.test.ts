import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { JsonlFileSink, SinkUnavailableError } from '../../src/index.js';
import { useTempDir } from '../helpers/fixtures.js';
import { context, orderEvents, sinkConformance, type StoredEvent } from './conformance.js';

const dir = useTempDir('sluice-test-jsonl-');
let files = 0;

async function readLines(path: string): Promise<StoredEvent[]> {
  if (!existsSync(path)) return [];
  const text = await readFile(path, 'utf8');
  assert.ok(text === '' || text.endsWith('\n'), 'the file ends with a whole line');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as StoredEvent);
}

for (const fsync of [false, true]) {
  sinkConformance(
    `jsonl file${fsync ? ' (fsync)' : ''}`,
    { idempotent: false, ordered: true, storesFields: true, transientFailure: true, rejectsWrites: false, poisonEvent: false },
    async () => {
      const folder = join(dir.path, `nested-${++files}`);
      const path = join(folder, 'events.jsonl');
      return {
        sink: new JsonlFileSink({ path, fsync }),
        read: () => readLines(path),
        // A file where the sink's folder should be: the file cannot be created until it is gone.
        fail: async () => {
          await writeFile(folder, 'not a folder');
          return () => rm(folder);
        },
      };
    },
  );
}

describe('jsonl file sink', () => {
  test('appends one JSON object per event, in the documented shape, after what the file holds', async () => {
    const path = join(dir.path, `sink-${++files}.jsonl`);
    await writeFile(path, '{"earlier":true}\n');
    const sink = new JsonlFileSink({ path });
    const [event] = orderEvents(1);
    const json = { stream: 'events:json', id: '1-1', time: 1, data: { a: [1, 2] }, meta: { type: 't' } };
    await sink.write([event!, json], context());
    await sink.close();
    assert.deepEqual((await readFile(path, 'utf8')).split('\n'), [
      '{"earlier":true}',
      JSON.stringify({ stream: event!.stream, id: event!.id, time: event!.time, fields: event!.fields }),
      JSON.stringify(json),
      '',
    ]);
  });

  test('a file whose last line was cut off (a crash mid-write) gets the next events on lines of their own', async () => {
    const path = join(dir.path, `sink-${++files}.jsonl`);
    await writeFile(path, '{"whole":1}\n{"cut');
    const sink = new JsonlFileSink({ path });
    const events = orderEvents(2);
    await sink.write(events, context());
    await sink.close();
    const lines = (await readFile(path, 'utf8')).split('\n');
    assert.deepEqual(lines.slice(0, 2), ['{"whole":1}', '{"cut']);
    assert.deepEqual(lines.slice(2, 4).map((l) => (JSON.parse(l) as { id: string }).id), events.map((e) => e.id));
  });

  test('a full disk is a retryable error', async () => {
    const sink = new JsonlFileSink({ path: '/dev/full', mkdir: false });
    await assert.rejects(sink.write(orderEvents(2), context()), (error: unknown) => {
      assert.ok(error instanceof SinkUnavailableError, String(error));
      assert.match(error.message, /ENOSPC/);
      return true;
    });
    await sink.close();
  });

  test('a path that cannot be a file is a retryable error naming it', async () => {
    const sink = new JsonlFileSink({ path: dir.path });
    await assert.rejects(sink.write(orderEvents(1), context()), (error: unknown) => error instanceof SinkUnavailableError && /cannot open the file.*EISDIR/.test(error.message));
    await sink.close();
  });

  test('options are checked when the sink is built', () => {
    assert.throws(() => new JsonlFileSink({} as never), /`path` to be a non-empty string/);
    assert.throws(() => new JsonlFileSink({ path: 'x', fsync: 'yes' } as never), /`fsync` to be `true` or `false`/);
    assert.throws(() => new JsonlFileSink({ path: 'x', append: true } as never), /`append` to be absent/);
  });
});
