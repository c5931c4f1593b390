// Runs every compiled test file (unit tests beside the code in dist/src, integration tests in
// dist/test) with Node's test runner. Fails when there is none: a run that tests nothing is red.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function testFiles(dir) {
  const found = [];
  let entries = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return found;
  }
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...testFiles(path));
    else if (name.endsWith('.test.js')) found.push(path);
  }
  return found;
}

const filter = process.argv.slice(2);
let files = [...testFiles('dist/src'), ...testFiles('dist/test')].sort();
if (filter.length) files = files.filter((f) => filter.some((part) => f.includes(part)));
if (files.length === 0) {
  console.error('No test files found under dist/: run `npm run build` first.');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-timeout=120000', `--test-reporter=${process.env.TEST_REPORTER ?? 'spec'}`, ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
