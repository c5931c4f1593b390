import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { explain, repoRoot, runCli } from './cli.js';

// The README and each example's header tell users to run `sluice run examples/<file> --check`
// from the repository's root: every example pipeline must pass it as shipped.
test('every example pipeline passes `sluice run --check` as the examples say to run it', async () => {
  const files = (await readdir(join(repoRoot, 'examples'))).filter((name) => name.endsWith('.yaml')).sort();
  assert.deepEqual(files, ['pipeline.yaml', 'tail-to-webhook.yaml']);
  for (const file of files) {
    const result = await runCli(['run', `examples/${file}`, '--check']);
    assert.equal(result.code, 0, explain(result));
    assert.match(result.stdout, new RegExp(`^examples/${file.replace('.', '\\.')}: ok, \\d+ pipelines?: `));
  }
});
