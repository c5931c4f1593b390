import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatBytes, formatCount, formatDuration } from './format.js';

describe('formatDuration', () => {
  test('picks the unit by size, with seconds to two decimals under ten', () => {
    assert.equal(formatDuration(850), '850ms');
    assert.equal(formatDuration(1234), '1.23s');
    assert.equal(formatDuration(12_345), '12.3s');
    assert.equal(formatDuration(245_000), '4m05s');
    assert.equal(formatDuration(7_800_000), '2h10m');
    assert.equal(formatDuration(3 * 86_400_000 + 4 * 3_600_000), '3d4h');
  });

  test('answers ? for what is not a duration', () => {
    assert.equal(formatDuration(-1), '?');
    assert.equal(formatDuration(Number.NaN), '?');
    assert.equal(formatDuration(Number.POSITIVE_INFINITY), '?');
  });
});

describe('formatCount', () => {
  test('rounds and separates thousands', () => {
    assert.equal(formatCount(1_234_567.4), '1,234,567');
    assert.equal(formatCount(0), '0');
  });
});

describe('formatBytes', () => {
  test('uses binary units', () => {
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(1536), '1.5 KiB');
    assert.equal(formatBytes(100 * 1024 ** 2), '100.0 MiB');
  });
});
