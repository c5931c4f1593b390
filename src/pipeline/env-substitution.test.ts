import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EnvReferenceError, isWholeReference, substituteEnv } from './env-substitution.js';

const env = { DATABASE_URL: 'postgres://db/shop', EMPTY: '', PORT: '8080' };

test('${NAME} is replaced by the variable, anywhere in the text', () => {
  assert.equal(substituteEnv('${DATABASE_URL}', env), 'postgres://db/shop');
  assert.equal(substituteEnv('http://localhost:${PORT}/hook', env), 'http://localhost:8080/hook');
  assert.equal(substituteEnv('no references', env), 'no references');
});

test('${NAME:-default} takes the default when the variable is unset or empty, as a shell does', () => {
  assert.equal(substituteEnv('${MISSING:-fallback}', env), 'fallback');
  assert.equal(substituteEnv('${EMPTY:-fallback}', env), 'fallback');
  assert.equal(substituteEnv('${PORT:-1}', env), '8080');
  assert.equal(substituteEnv('${MISSING:-}', env), '');
  // Set but empty, without a default: the empty value.
  assert.equal(substituteEnv('[${EMPTY}]', env), '[]');
});

test('$${ is a literal ${', () => {
  assert.equal(substituteEnv('price: $${PORT}', env), 'price: ${PORT}');
});

test('a variable that is not set names itself and the way to give a default', () => {
  assert.throws(
    () => substituteEnv('postgres://${PG_USER}@db', env),
    (error: unknown) => error instanceof EnvReferenceError && error.variable === 'PG_USER' && /PG_USER is not set.*\$\{PG_USER:-default\}/.test(error.message),
  );
});

test('malformed references are refused', () => {
  assert.throws(() => substituteEnv('${not a name}', env), (e: unknown) => e instanceof EnvReferenceError && e.variable === undefined);
  assert.throws(() => substituteEnv('${UNCLOSED', env), /not closed/);
});

test('isWholeReference: the whole value is one reference', () => {
  assert.equal(isWholeReference('${PORT}'), true);
  assert.equal(isWholeReference('${PORT:-80}'), true);
  assert.equal(isWholeReference('x${PORT}'), false);
});
