// Run by fixtures.test.ts as a test file of its own: writes what the fixtures do, in order, to the
// file named by argv[2]. With argv[3] `fail`, the second fixture fails to open.
import { appendFileSync } from 'node:fs';
import { test } from 'node:test';
import { beforeInOrder, onCleanup, useFixture } from './fixtures.js';

const [logFile = '', mode = 'pass'] = process.argv.slice(2);
const log = (line: string) => appendFileSync(logFile, `${line}\n`);
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const slow = useFixture(
  'the slow fixture',
  async () => {
    log('open slow');
    // Long enough for a step that does not wait its turn to run first.
    await delay(50);
    log('opened slow');
    return 'slow';
  },
  () => log('close slow'),
);
try {
  log(`early read: ${slow.value}`);
} catch (error) {
  log(`early read fails: ${(error as Error).message}`);
}
const fast = useFixture(
  'the fast fixture',
  async () => {
    log(`open fast after ${slow.value}`);
    if (mode === 'fail') throw new Error('fast cannot open');
    return 'fast';
  },
  () => log('close fast'),
);
beforeInOrder(() => log(`step sees ${fast.value}`));
onCleanup(() => log('cleanup'));

test('sees every fixture', () => log(`test sees ${slow.value} and ${fast.value}`));
