import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../../src/redis/managed-server.js';
import { explain, lines, repoRoot, runCli, type CliResult } from './cli.js';

// Nothing listens on this port: usage errors must be reported without connecting, and a command
// that does connect must fail fast with a runtime error.
let nowhere: string;

before(async () => {
  nowhere = `redis://127.0.0.1:${await freePort()}`;
});

function assertOneLineError(result: CliResult, code: number, pattern: RegExp): void {
  assert.equal(result.code, code, explain(result));
  assert.equal(result.stdout, '', explain(result));
  assert.equal(lines(result.stderr).length, 1, `expected one line on stderr, got: ${result.stderr}`);
  assert.match(result.stderr, pattern);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace without --debug');
}

test('an unknown command is a usage error naming it (exit 2)', async () => {
  assertOneLineError(await runCli(['publsh', 'events:orders']), 2, /^sluice: unknown command 'publsh'/);
});

test('an unknown option is a usage error (exit 2)', async () => {
  assertOneLineError(await runCli(['--redis', nowhere, 'range', 'events:orders', '--frm', '0']), 2, /^sluice: unknown option '--frm'/);
});

test('a bad --count names the option and the value (exit 2)', async () => {
  const result = await runCli(['--redis', nowhere, 'tail', 'events:orders', '--count', 'abc']);
  assertOneLineError(result, 2, /^sluice: Expected `--count` to be a whole number ≥ 1, got `abc`\n$/);
  assertOneLineError(await runCli(['--redis', nowhere, 'range', 'events:orders', '--count', '0']), 2, /^sluice: Expected `--count` to be a whole number ≥ 1, got `0`\n$/);
});

test('a stream name with a space is a usage error naming it (exit 2)', async () => {
  const result = await runCli(['--redis', nowhere, 'publish', 'events orders', 'order_id=12345']);
  assertOneLineError(result, 2, /^sluice: Invalid stream name `events orders`: expected no spaces/);
});

test('--from yesterday is a usage error listing what is accepted (exit 2)', async () => {
  const tail = await runCli(['--redis', nowhere, 'tail', 'events:orders', '--from', 'yesterday']);
  assertOneLineError(tail, 2, /^sluice: Expected `--from` to be `\$`, `0`, a stream ID like \d+-0 or an ISO time like .*, got `yesterday`\n$/);
  const range = await runCli(['--redis', nowhere, 'range', 'events:orders', '--from', 'yesterday']);
  assertOneLineError(range, 2, /^sluice: Expected `--from` to be `-`, a stream ID .*, got `yesterday`\n$/);
});

test('other bad values: field pair, duration, codec, missing event (exit 2)', async () => {
  assertOneLineError(await runCli(['--redis', nowhere, 'publish', 'events:orders', 'order_id']), 2, /^sluice: Expected a field=value pair like order_id=12345, got `order_id`/);
  assertOneLineError(await runCli(['--redis', nowhere, 'trim', 'events:orders', '--max-age', 'a week']), 2, /^sluice: Expected `--max-age` to be a duration .*, got `a week`/);
  assertOneLineError(await runCli(['--redis', nowhere, 'range', 'events:orders', '--codec', 'xml']), 2, /^sluice: option '--codec <codec>' argument 'xml' is invalid/);
  assertOneLineError(await runCli(['--redis', nowhere, 'publish', 'events:orders']), 2, /^sluice: Expected the event as field=value pairs/);
  assertOneLineError(await runCli(['--redis', nowhere, 'tail']), 2, /^sluice: missing required argument 'stream'/);
});

test('a --redis or REDIS_URL that is not a Redis URL is a usage error naming it (exit 2)', async () => {
  assertOneLineError(await runCli(['--redis', 'localhost:6379', 'info']), 2, /^sluice: Expected `--redis` to be a Redis URL like redis:\/\/127\.0\.0\.1:6379.*, got `localhost:6379`\n$/);
  assertOneLineError(await runCli(['info'], { env: { REDIS_URL: '' } }), 2, /^sluice: Expected `REDIS_URL` to be a Redis URL .*, got ``\n$/);
});

test('an unreachable --redis is a runtime error (exit 1): one line, no stack trace, quickly', async () => {
  const result = await runCli(['--redis', nowhere, '--timeout', '500ms', 'info']);
  assertOneLineError(result, 1, new RegExp(`^sluice: Cannot reach Redis at ${nowhere.replace(/\./g, '\\.')}.*: is redis-server running there\\?`));
  assert.ok(result.ms < 5000, `took ${result.ms} ms`);
});

test('--debug adds the stack trace', async () => {
  const result = await runCli(['--debug', '--redis', nowhere, '--timeout', '200ms', 'info']);
  assert.equal(result.code, 1, explain(result));
  assert.match(result.stderr, /^sluice: Cannot reach Redis/);
  assert.match(result.stderr, /\n\s+at /);
});

test('--help and --version exit 0', async () => {
  const help = await runCli(['--help']);
  assert.equal(help.code, 0, explain(help));
  assert.match(help.stdout, /^Usage: sluice /);
  for (const command of ['publish', 'tail', 'range', 'info', 'trim', 'doctor', 'redis']) assert.match(help.stdout, new RegExp(`^  ${command} `, 'm'));

  const commandHelp = await runCli(['tail', '--help']);
  assert.equal(commandHelp.code, 0, explain(commandHelp));
  assert.match(commandHelp.stdout, /--block <ms>/);

  const version = await runCli(['--version']);
  assert.equal(version.code, 0, explain(version));
  const manifest = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  assert.equal(version.stdout, `${manifest.version}\n`);
});
