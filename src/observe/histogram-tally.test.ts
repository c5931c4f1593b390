import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidOptionError } from '../errors.js';
import type { Sample } from './collected-metric.js';
import { checkBuckets, HistogramTally } from './histogram-tally.js';

describe('HistogramTally', () => {
  test('buckets are cumulative with le as upper bound (inclusive), +Inf counts all, sum and count', () => {
    const tally = new HistogramTally([0.1, 1, 10]);
    for (const v of [0.05, 0.1, 0.5, 1, 5, 50]) tally.observe(v);
    const out: Sample[] = [];
    tally.samples('x', { stream: 's' }, out);
    assert.deepEqual(
      out.map((s) => [s.metricName, s.labels?.le ?? null, s.value]),
      [
        ['x_bucket', 0.1, 2],
        ['x_bucket', 1, 4],
        ['x_bucket', 10, 5],
        ['x_bucket', '+Inf', 6],
        ['x_sum', null, 56.65],
        ['x_count', null, 6],
      ],
    );
    assert.ok(out.every((s) => s.labels?.stream === 's'));
  });

  test('bounds are checked: non-empty, finite, increasing', () => {
    assert.deepEqual(checkBuckets('b', [1, 2]), [1, 2]);
    for (const bad of [[], [2, 1], [1, 1], [1, Infinity], ['1'], 'x']) assert.throws(() => checkBuckets('b', bad), InvalidOptionError);
  });
});
