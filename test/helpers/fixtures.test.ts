import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { useTempDir } from './fixtures.js';

const dir = useTempDir('sluice-test-fixtures-');
let runs = 0;

/** Runs fixtures-probe.js as a test file of its own; returns its exit code and the steps it logged. */
async function probe(mode: 'pass' | 'fail'): Promise<{ code: number | null; steps: string[]; output: string }> {
  const logFile = join(dir.path, `probe-${++runs}.log`);
  const script = new URL('./fixtures-probe.js', import.meta.url).pathname;
  // Without the parent runner's context the probe reports on its own instead of to this runner.
  const env = { ...process.env, NODE_TEST_CONTEXT: undefined };
  const child = spawnSync(process.execPath, [script, logFile, mode], { env, encoding: 'utf8', timeout: 30_000 });
  const steps = (await readFile(logFile, 'utf8')).split('\n').filter(Boolean);
  return { code: child.status, steps, output: `${child.stdout}${child.stderr}` };
}

describe('test fixtures', () => {
  test('open one after the other in the order registered, and close last opened first after the tests', async () => {
    const { code, steps, output } = await probe('pass');
    assert.equal(code, 0, output);
    assert.deepEqual(steps, [
      "early read fails: the slow fixture is not open yet: read it inside a test or a hook, once the file's before hooks ran",
      'open slow',
      'opened slow',
      'open fast after slow',
      'step sees fast',
      'test sees slow and fast',
      'cleanup',
      'close fast',
      'close slow',
    ]);
  });

  test('a fixture that fails to open fails the file: later steps do not run, what was opened is closed', async () => {
    const { code, steps, output } = await probe('fail');
    assert.equal(code, 1, output);
    assert.match(output, /fast cannot open/);
    assert.deepEqual(steps.slice(1), ['open slow', 'opened slow', 'open fast after slow', 'close slow']);
  });
});
