import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PipelineConfigError } from './config-error.js';
import { parsePipelineYaml } from './load-config.js';

const env = { DATABASE_URL: 'postgres://db/shop', BATCH: '25', HOOK_SECRET: 's3cret' };

/** Asserts that the YAML is refused at `line:column`, with `key`, and a detail matching `detail`. */
function refusedAt(yaml: string, line: number, column: number, key: string | undefined, detail: RegExp, environment: NodeJS.ProcessEnv = env): void {
  assert.throws(
    () => parsePipelineYaml(yaml, { file: 'pipeline.yaml', env: environment }),
    (error: unknown) => {
      assert.ok(error instanceof PipelineConfigError, `expected a PipelineConfigError, got ${String(error)}`);
      assert.deepEqual(error.position, { line, column }, error.message);
      assert.equal(error.key, key, error.message);
      assert.match(error.detail, detail);
      assert.equal(error.message, `pipeline.yaml:${line}:${column}: ${key === undefined ? '' : `${key}: `}${error.detail}`);
      assert.equal(error.code, 'ERR_PIPELINE_CONFIG');
      return true;
    },
  );
}

const ONE = `name: orders-to-db
source:
  type: stream
  stream: events:orders
steps:
  - filter: status != "cancelled"
  - route:
      - when: double(amount) >= 100.0
        to:
          - type: postgres
            connectionString: \${DATABASE_URL}
            table: big_orders
sinks:
  - type: sqlite
    path: ":memory:"
    table: orders
batch:
  size: \${BATCH}
  linger: 20ms
`;

test('one pipeline: top-level keys are its config; ${ENV} is substituted, a plain whole reference keeps its YAML type', () => {
  const { pipelines } = parsePipelineYaml(ONE, { file: 'pipeline.yaml', env });
  assert.equal(pipelines.length, 1);
  const [pipeline] = pipelines;
  assert.equal(pipeline?.name, 'orders-to-db');
  assert.deepEqual(pipeline?.plan.batch, { size: 25, lingerMs: 20 });
  assert.deepEqual(pipeline?.plan.sinks.map((s) => s.name), ['sqlite:orders', 'postgres:big_orders']);
  const route = (pipeline?.config.steps?.[1] as { route: Array<{ to: Array<{ connectionString: string }> }> }).route;
  assert.equal(route[0]?.to[0]?.connectionString, 'postgres://db/shop');
});

test('several pipelines under `pipelines:`; errors carry the list position', () => {
  const yaml = `pipelines:
  - name: a
    source: { type: stream, stream: events:a }
    sinks: [{ type: stdout }]
  - name: b
    source: { type: generator, stream: events:b, count: 10 }
    sinks:
      - type: jsonl
        path: out.jsonl
`;
  const { pipelines } = parsePipelineYaml(yaml, { file: 'pipeline.yaml', env });
  assert.deepEqual(pipelines.map((p) => [p.name, p.stream]), [['a', 'events:a'], ['b', 'events:b']]);
  refusedAt(yaml.replace('path: out.jsonl', 'paht: out.jsonl'), 9, 9, 'pipelines[1].sinks[0].paht', /no such option/);
  refusedAt(yaml.replace('name: b', 'name: a'), 5, 5, 'pipelines[1].name', /pipelines\[0\] has it too/);
  refusedAt(`${yaml}extra: 1\n`, 10, 1, 'extra', /belongs to one of the pipelines/);
});

test('a bad key is reported at its line and column, with its path', () => {
  refusedAt(ONE.replace('    table: orders', '    tabel: orders'), 16, 5, 'sinks[0].tabel', /a sqlite sink has no such option \(did you mean `table`\?\)/);
  refusedAt(ONE.replace('type: stream', 'type: kafka'), 3, 3, 'source.type', /^expected one of `stream`/);
  refusedAt(ONE.replace('linger: 20ms', 'linger: soon'), 19, 3, 'batch.linger', /^expected a duration/);
});

test('an expression that does not parse is reported at the character where it breaks', () => {
  // `      - when: double(amount) >= && 1`: the value starts at column 15; `&&` is at 33.
  refusedAt(ONE.replace('double(amount) >= 100.0', 'double(amount) >= && 1'), 8, 33, 'steps[1].route[0].when', /^expected a CEL expression \(Unexpected token/);
  // Quoted: `  - filter: 'status !='`, the text starts after the quote at 14; it ends (EOF) at 23.
  refusedAt(ONE.replace('- filter: status != "cancelled"', '- filter: \'status !=\''), 6, 23, 'steps[0].filter', /CEL expression/);
});

test('a missing environment variable names itself, its key and its line', () => {
  refusedAt(ONE, 11, 31, 'steps[1].route[0].to[0].connectionString', /^environment variable DATABASE_URL is not set/, { BATCH: '1' });
  refusedAt(ONE, 18, 9, 'batch.size', /^environment variable BATCH is not set/, { DATABASE_URL: 'postgres://db/shop' });
});

test('a quoted whole reference stays text; a default applies when the variable is unset', () => {
  const yaml = `name: q
source: { type: stream, stream: 's' }
sinks:
  - type: webhook
    url: \${HOOK_URL:-http://127.0.0.1:9/hook}
    secret: "\${HOOK_SECRET}"
`;
  const [pipeline] = parsePipelineYaml(yaml, { file: 'pipeline.yaml', env }).pipelines;
  const sink = pipeline?.config.sinks?.[0] as { url: string; secret: string };
  assert.equal(sink.url, 'http://127.0.0.1:9/hook');
  assert.equal(sink.secret, 's3cret');
});

test('YAML syntax errors, empty files and several documents are refused with a position', () => {
  assert.throws(() => parsePipelineYaml('name: [a, b\nsource: 1\n', { file: 'p.yaml', env }), (e: unknown) => e instanceof PipelineConfigError && /^p\.yaml:\d+:\d+: invalid YAML/.test(e.message));
  assert.throws(() => parsePipelineYaml('', { file: 'p.yaml', env }), (e: unknown) => e instanceof PipelineConfigError && /^p\.yaml: the file is empty/.test(e.message));
  assert.throws(() => parsePipelineYaml('- a\n- b\n', { file: 'p.yaml', env }), (e: unknown) => e instanceof PipelineConfigError && /^p\.yaml:1:1: expected a pipeline/.test(e.message));
  assert.throws(() => parsePipelineYaml('name: a\n---\nname: b\n', { file: 'p.yaml', env }), (e: unknown) => e instanceof PipelineConfigError && /^p\.yaml:2:1: expected one YAML document/.test(e.message));
});

test('two pipelines reading one stream with the same group are refused', () => {
  const yaml = `pipelines:
  - name: a
    source: { type: stream, stream: events:x, group: g }
    sinks: [{ type: stdout }]
  - name: b
    source:
      type: stream
      stream: events:x
      group: g
    sinks: [{ type: stdout }]
`;
  refusedAt(yaml, 9, 7, 'pipelines[1].source.group', /would split its events/);
});
