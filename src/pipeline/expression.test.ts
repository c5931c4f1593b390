import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidOptionError } from '../errors.js';
import type { PipelineEvent } from './config.js';
import { compileExpression, InvalidExpressionError } from './expression.js';

const order: PipelineEvent = {
  stream: 'events:orders',
  id: '1700000000000-0',
  time: 1_700_000_000_000,
  meta: { key: 'customer:67890' },
  fields: { order_id: '12345', customer_id: '67890', amount: '99.99', status: 'pending', 'order-note': 'gift' },
};

const run = (source: string, event: PipelineEvent = order) => compileExpression(source, 'steps[0].filter').evaluate(event);

test('fields are variables holding their text; numbers need a conversion', () => {
  assert.equal(run('status == "pending"'), true);
  assert.equal(run('double(amount) > 50'), true);
  assert.equal(run('double(amount) > 100.0'), false);
  assert.equal(run('int(order_id) + 1'), 12346n);
  assert.equal(run('status in ["paid", "shipped"]'), false);
});

test('fields, event and the numeric helpers', () => {
  assert.equal(run('fields["order-note"]'), 'gift');
  assert.equal(run('has(fields.discount)'), false);
  assert.equal(run('fields.?discount.orValue("0")'), '0');
  assert.equal(run('event.id'), '1700000000000-0');
  assert.equal(run('event.stream.startsWith("events:")'), true);
  assert.equal(run('event.meta.key'), 'customer:67890');
  assert.equal(run('event.time > 0.0'), true);
  assert.equal(run('round(double(amount) * 1.2, 2)'), 119.99);
  assert.equal(run('round(2.675, 2)'), 2.68);
  assert.equal(run('round(2.5)'), 3);
  assert.equal(run('floor(double(amount))'), 99);
  assert.equal(run('ceil(double(amount))'), 100);
  assert.equal(run('abs(-3)'), 3n);
  assert.equal(run('status.upperAscii()'), 'PENDING');
});

test('json-codec events: the keys of data are variables, numbers are doubles', () => {
  const event: PipelineEvent = { stream: 's', id: '1-0', time: 1, data: { amount: 120.5, items: [{ sku: 'a' }, { sku: 'b' }], customer: { tier: 'gold' } } };
  assert.equal(run('amount > 100.0', event), true);
  assert.equal(run('size(items)', event), 2n);
  assert.equal(run('customer.tier == "gold"', event), true);
  assert.equal(run('data.items.exists(i, i.sku == "b")', event), true);
});

test('evaluation errors are thrown for the caller to dead-letter: a missing field, text that is no number', () => {
  assert.throws(() => run('double(discount) > 1.0'), /Unknown variable: discount/);
  assert.throws(() => run('double(status) > 1.0'), /double/);
});

test('only own fields are variables: `constructor` is not a field of the event', () => {
  assert.throws(() => run('constructor == ""'), /Unknown variable: constructor/);
});

test('an expression that does not parse is refused when compiled, with the key and where it breaks', () => {
  assert.throws(
    () => compileExpression('double(amount) > && x', 'steps[1].route[0].when'),
    (error: unknown) =>
      error instanceof InvalidExpressionError &&
      error instanceof InvalidOptionError &&
      error.option === 'steps[1].route[0].when' &&
      error.offset === 17 &&
      /Expected `steps\[1\]\.route\[0\]\.when` to be a CEL expression \(Unexpected token.* at character 18\)/.test(error.message),
  );
});

test('an expression that cannot type-check is refused when compiled', () => {
  assert.throws(() => compileExpression('"total: " + 1', 'steps[0].map.total'), (e: unknown) => e instanceof InvalidExpressionError && /no such overload/.test(e.message));
  assert.throws(() => compileExpression('', 'steps[0].filter'), InvalidOptionError);
  assert.throws(() => compileExpression({} as unknown as string, 'steps[0].filter'), InvalidOptionError);
});

test('`event` or `fields` compared whole with a value is refused, naming how to reach a field of that name', () => {
  for (const source of ['event != "login"', 'fields == "x"']) {
    assert.throws(
      () => compileExpression(source, 'steps[0].filter'),
      (e: unknown) => e instanceof InvalidExpressionError && /no such overload: map<string, dyn>/.test(e.message) && /a field named event or fields is `fields\.event`/.test(e.message),
      source,
    );
  }
  // Their parts still go anywhere, and a field named `event` is `fields.event`.
  const event = { stream: 's', id: '1700000000000-0', time: 1700000000000, fields: { event: 'login', status: 'paid' }, meta: { key: 'k' } } as unknown as PipelineEvent;
  for (const [source, expected] of [
    ['fields.event != "login"', false],
    ['event.meta.key == "k" && event.time > 1.0 && event.id.startsWith("17")', true],
    ['has(fields.status) && size(fields) == 2 && "status" in fields', true],
  ] as const) {
    assert.equal(compileExpression(source, 'steps[0].filter').evaluate(event), expected, source);
  }
});

test('numbers and booleans (as YAML reads `qty: 1` or `filter: true`) are their CEL literals', () => {
  assert.equal(compileExpression(1, 'steps[0].map.qty').evaluate(order), 1n);
  assert.equal(compileExpression(2.5, 'steps[0].map.qty').evaluate(order), 2.5);
  assert.equal(compileExpression(true, 'steps[0].filter').evaluate(order), true);
});
