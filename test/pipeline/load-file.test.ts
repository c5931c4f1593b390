import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { definePipeline, loadPipelineFile, orderEvent, PipelineConfigError, runPipeline } from '../../src/index.js';
import { uniquePrefix } from '../helpers/redis-server.js';
import { useTempDir } from '../helpers/fixtures.js';
import { useSluice } from '../helpers/sluice-fixture.js';
import { MemorySink, recordingLogger } from './helpers.js';

const redis = useSluice();
const dir = useTempDir('sluice-test-load-');

describe('loadPipelineFile', () => {
  test('a YAML map step may name a module function, resolved against the YAML file\'s folder and imported before connecting', async () => {
    await writeFile(
      join(dir.path, 'enrich.mjs'),
      `export function addRegion(event) {
  return { fields: { ...event.fields, region: Number(event.fields.customer_id) % 2 === 0 ? 'eu' : 'us' } };
}
export const notAFunction = 42;
`,
    );
    const stream = `${uniquePrefix('module')}orders`;
    const path = join(dir.path, 'with-module.yaml');
    await writeFile(
      path,
      `name: enrich
source: { type: stream, stream: ${stream} }
steps:
  - map: { module: ./enrich.mjs, export: addRegion }
  - filter: region == "eu"
sinks: [{ type: stdout }]
consumer: { block: 100 }
`,
    );
    const [pipeline] = await loadPipelineFile(path);
    assert.ok(pipeline);
    // Customers 10000 (even: eu) and 10001 (odd: us).
    const [eu, us] = await redis.sluice.stream(stream).publishMany([orderEvent(1, () => 0), orderEvent(2, () => 0.00002)]);
    // The sinks of the file are replaced by a memory sink, to look at what reached them.
    const sink = new MemorySink();
    const running = await runPipeline(definePipeline({ ...pipeline.config, sinks: [sink] }, { baseDir: dir.path }), { sluice: redis.sluice, logger: recordingLogger().logger });
    try {
      await running.idle();
    } finally {
      await running.close();
    }
    assert.deepEqual([...sink.stored.keys()], [eu]);
    assert.equal(sink.stored.get(eu as string)?.fields?.region, 'eu');
    assert.equal(running.stats().filtered, 1, `the us order ${us} was filtered out by the region the module set`);

    await writeFile(path, `name: enrich\nsource: { type: stream, stream: s }\nsteps:\n  - map:\n      module: ./enrich.mjs\n      export: notAFunction\nsinks: [{ type: stdout }]\n`);
    await assert.rejects(loadPipelineFile(path), (error: unknown) => error instanceof PipelineConfigError && /:6:7: steps\[0\]\.map\.export: Expected `\.\/enrich\.mjs` to export a function `notAFunction`/.test(error.message));
    await writeFile(path, `name: enrich\nsource: { type: stream, stream: s }\nsteps:\n  - map:\n      module: ./missing.mjs\nsinks: [{ type: stdout }]\n`);
    await assert.rejects(loadPipelineFile(path), (error: unknown) => error instanceof PipelineConfigError && /:5:7: steps\[0\]\.map\.module: Cannot load .* no such file/.test(error.message));
  });

  test('a file source\'s missing file is reported at its key, before connecting', async () => {
    const path = join(dir.path, 'missing-input.yaml');
    await writeFile(path, `name: f\nsource:\n  type: file\n  path: ${join(dir.path, 'nowhere.jsonl')}\n  stream: s\nsinks: [{ type: stdout }]\n`);
    await assert.rejects(loadPipelineFile(path), (error: unknown) => error instanceof PipelineConfigError && /:4:3: source\.path: Cannot read .* no such file/.test(error.message));
  });

  test('a JavaScript module exports its pipelines: a config, or a list of them', async () => {
    const one = join(dir.path, 'one.mjs');
    await writeFile(one, `export default { name: 'm', source: { type: 'stream', stream: 'events:m' }, sinks: [{ type: 'stdout' }], steps: [{ filter: (e) => e.fields.ok === 'yes' }] };\n`);
    const [pipeline] = await loadPipelineFile(one);
    assert.equal(pipeline?.name, 'm');
    const many = join(dir.path, 'many.mjs');
    await writeFile(many, `export const pipelines = [
  { name: 'a', source: { type: 'stream', stream: 'events:a' }, sinks: [{ type: 'stdout' }] },
  { name: 'b', source: { type: 'stream', stream: 'events:b' }, sinks: [{ type: 'stduot' }] },
];\n`);
    await assert.rejects(loadPipelineFile(many), (error: unknown) => error instanceof PipelineConfigError && /many\.mjs: \[1\]\.sinks\[0\]\.type: expected one of/.test(error.message));
    const none = join(dir.path, 'none.mjs');
    await writeFile(none, 'export const something = 1;\n');
    await assert.rejects(loadPipelineFile(none), /export its pipelines/);
  });

  test('a file that does not exist, or is not a pipeline file', async () => {
    await assert.rejects(loadPipelineFile(join(dir.path, 'nope.yaml')), (error: unknown) => error instanceof PipelineConfigError && /nope\.yaml: cannot read the pipeline file: no such file/.test(error.message));
    await assert.rejects(loadPipelineFile(join(dir.path, 'notes.txt')), /expected a pipeline file ending in \.yaml, \.yml, \.js/);
  });
});
