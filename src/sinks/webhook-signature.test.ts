import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { signWebhook, verifyWebhookSignature } from './webhook-signature.js';

const body = '{"events":[{"stream":"events:orders","id":"1-0","time":1,"fields":{"amount":"99.99"}}]}';

test('the signature is HMAC-SHA256 of "<timestamp>.<body>", hex, prefixed sha256=', () => {
  const expected = createHmac('sha256', 'secret').update(`1700000000.${body}`).digest('hex');
  assert.equal(signWebhook('secret', 1_700_000_000, body), `sha256=${expected}`);
  assert.equal(signWebhook('secret', 1_700_000_000, Buffer.from(body)), `sha256=${expected}`);
});

test('several secrets (rotation) give one signature each; any of them verifies', () => {
  const signature = signWebhook(['new', 'old'], 1_700_000_000, body);
  assert.equal(signature.split(',').length, 2);
  const now = 1_700_000_000_000;
  assert.equal(verifyWebhookSignature({ secret: 'old', body, timestamp: '1700000000', signature, now }), true);
  assert.equal(verifyWebhookSignature({ secret: ['other', 'new'], body, timestamp: '1700000000', signature, now }), true);
  assert.equal(verifyWebhookSignature({ secret: 'third', body, timestamp: '1700000000', signature, now }), false);
});

test('verification refuses a changed body, another timestamp, an old or future timestamp, and malformed headers', () => {
  const now = 1_700_000_000_000;
  const signature = signWebhook('secret', 1_700_000_000, body);
  const ok = { secret: 'secret', body, timestamp: '1700000000', signature, now };
  assert.equal(verifyWebhookSignature(ok), true);
  assert.equal(verifyWebhookSignature({ ...ok, body: body.replace('99.99', '9.99') }), false);
  assert.equal(verifyWebhookSignature({ ...ok, timestamp: '1700000001' }), false);
  assert.equal(verifyWebhookSignature({ ...ok, now: now + 301_000 }), false);
  assert.equal(verifyWebhookSignature({ ...ok, now: now - 301_000 }), false);
  assert.equal(verifyWebhookSignature({ ...ok, now: now + 3_600_000, toleranceSeconds: 7200 }), true);
  assert.equal(verifyWebhookSignature({ ...ok, timestamp: undefined }), false);
  assert.equal(verifyWebhookSignature({ ...ok, signature: null }), false);
  assert.equal(verifyWebhookSignature({ ...ok, timestamp: '17e8' }), false);
  assert.equal(verifyWebhookSignature({ ...ok, signature: signature.replace('sha256=', 'sha1=') }), false);
  assert.equal(verifyWebhookSignature({ ...ok, signature: 'sha256=abc' }), false);
});
