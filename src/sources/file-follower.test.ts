import assert from 'node:assert/strict';
import { appendFile, link, mkdtemp, rename, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FileFollower, type FileFollowerOptions, type FollowedItem } from './file-follower.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-follower-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

let files = 0;
async function newFile(content: string): Promise<string> {
  const path = join(dir, `app-${++files}.jsonl`);
  await writeFile(path, content);
  return path;
}

/** Runs a follower, keeping what it gives; `until` waits for a condition on it, with a deadline. */
class Followed {
  readonly items: FollowedItem[] = [];
  readonly done: Promise<void>;
  #changed: (() => void) | undefined;

  constructor(readonly follower: FileFollower) {
    this.done = (async () => {
      for (let item = await follower.next(); item !== undefined; item = await follower.next()) {
        this.items.push(item);
        this.#changed?.();
      }
    })();
  }

  /** The lines given so far, with `|truncated|`, `|replaced|`, `|missing|` where those happened. */
  get lines(): string[] {
    return this.items.flatMap((item) => (item.type === 'lines' ? item.lines : item.type === 'caught-up' ? [] : [`|${item.type}|`]));
  }

  get caughtUp(): number {
    return this.items.filter((item) => item.type === 'caught-up').length;
  }

  async until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}; got ${JSON.stringify(this.lines)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#changed = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  async close(): Promise<void> {
    this.follower.stop();
    await this.done;
    await this.follower.close();
  }
}

async function follow(path: string, options: Partial<FileFollowerOptions> = {}): Promise<Followed> {
  return new Followed(await FileFollower.open({ path, pollIntervalMs: 20, ...options }));
}

test('the lines a file holds, then each complete line appended; a line written in two parts comes whole', async () => {
  const path = await newFile('{"n":1}\n{"n":2}\n');
  const followed = await follow(path);
  try {
    await followed.until(() => followed.caughtUp === 1, 'the end of the file');
    assert.deepEqual(followed.lines, ['{"n":1}', '{"n":2}']);
    await appendFile(path, '{"n":3}\n{"n"');
    await followed.until(() => followed.caughtUp === 2, 'the end again');
    assert.deepEqual(followed.lines, ['{"n":1}', '{"n":2}', '{"n":3}']);
    assert.deepEqual(followed.items.at(-1), { type: 'caught-up', partial: true }, 'the start of line 4 is held');
    await appendFile(path, ':4}\n');
    await followed.until(() => followed.lines.length === 4, 'line 4');
    assert.deepEqual(followed.lines, ['{"n":1}', '{"n":2}', '{"n":3}', '{"n":4}']);
  } finally {
    await followed.close();
  }
});

test('the poll alone sees appends (no fs.watch)', async () => {
  const path = await newFile('');
  const followed = await follow(path, { watch: false, pollIntervalMs: 30 });
  try {
    await followed.until(() => followed.caughtUp === 1, 'the end of the empty file');
    await appendFile(path, 'a\nb\n');
    await followed.until(() => followed.lines.length === 2, 'two lines');
    assert.deepEqual(followed.lines, ['a', 'b']);
  } finally {
    await followed.close();
  }
});

test('copytruncate: the file cut to nothing is read again from its start, the held part of a line dropped', async () => {
  const path = await newFile('one\ntwo\nthr');
  const followed = await follow(path);
  try {
    await followed.until(() => followed.caughtUp === 1, 'the end of the file');
    await truncate(path, 0);
    await followed.until(() => followed.lines.includes('|truncated|'), 'the truncation');
    await appendFile(path, 'three\nfour\n');
    await followed.until(() => followed.lines.length === 5, 'the new lines');
    assert.deepEqual(followed.lines, ['one', 'two', '|truncated|', 'three', 'four']);
    assert.equal(followed.follower.head().toString(), 'three\nfour\n', 'the head is the file read now');
  } finally {
    await followed.close();
  }
});

test('rotation by rename: the old file is read to its end (its last line too), then the new one from its start', async () => {
  const path = await newFile('old-1\n');
  const followed = await follow(path, { watch: false, pollIntervalMs: 50 });
  try {
    await followed.until(() => followed.caughtUp === 1, 'the end of the file');
    await appendFile(path, 'old-2\nold-3');
    // The path goes over to another file at once (no moment without one): the old file stays
    // at app.log.1, the new one is renamed into place.
    await link(path, `${path}.1`);
    await writeFile(`${path}.next`, 'new-1\n');
    await rename(`${path}.next`, path);
    await followed.until(() => followed.lines.includes('new-1'), 'the new file');
    assert.deepEqual(followed.lines, ['old-1', 'old-2', 'old-3', '|replaced|', 'new-1']);
    assert.equal(followed.follower.head().toString(), 'new-1\n');
  } finally {
    await followed.close();
  }
});

test('a path missing for a while is waited for, then read from its start', async () => {
  const path = await newFile('a\n');
  const followed = await follow(path);
  try {
    await followed.until(() => followed.caughtUp === 1, 'the end of the file');
    await unlink(path);
    await followed.until(() => followed.lines.includes('|missing|'), 'the file gone');
    await writeFile(path, 'b\n');
    await followed.until(() => followed.lines.includes('b'), 'the new file');
    assert.deepEqual(followed.lines, ['a', '|missing|', '|replaced|', 'b']);
  } finally {
    await followed.close();
  }
});

test('stop() ends a waiting next() at once; a missing file at open is an error', async () => {
  const path = await newFile('x\n');
  const follower = await FileFollower.open({ path, pollIntervalMs: 60_000, watch: false });
  assert.deepEqual(await follower.next(), { type: 'lines', lines: ['x'] });
  assert.deepEqual(await follower.next(), { type: 'caught-up', partial: false });
  const waiting = follower.next();
  const started = Date.now();
  follower.stop();
  assert.equal(await waiting, undefined);
  assert.ok(Date.now() - started < 1000, 'not after the poll interval');
  await follower.close();
  await follower.close();
  await assert.rejects(FileFollower.open({ path: join(dir, 'nope.jsonl'), pollIntervalMs: 10 }), { code: 'ENOENT' });
});

test('a file larger than a chunk: every line, in order, whatever the chunk boundaries', async () => {
  const lines = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ n: i + 1, pad: 'x'.repeat(i % 37) }));
  const path = await newFile(`${lines.join('\n')}\n`);
  const followed = await follow(path, { chunkBytes: 1000 });
  try {
    await followed.until(() => followed.caughtUp === 1, 'the end of the file');
    assert.deepEqual(followed.lines, lines);
    assert.equal(followed.follower.head().length, 4096);
  } finally {
    await followed.close();
  }
});
