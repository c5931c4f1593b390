import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatTime, keyValues, table } from './output.js';
import { renderProgress } from './progress.js';

describe('output formatting', () => {
  test('table aligns columns, numbers to the right', () => {
    const text = table(
      ['STREAM', 'LENGTH', 'LAG'],
      [
        ['events:orders', '10,000', '?'],
        ['events:payments', '7', '12'],
      ],
    );
    assert.equal(text, ['STREAM           LENGTH  LAG', 'events:orders    10,000    ?', 'events:payments       7   12'].join('\n'));
  });

  test('keyValues aligns the values', () => {
    assert.equal(keyValues([['url', 'redis://x'], ['data dir', '/d']]), 'url       redis://x\ndata dir  /d');
  });

  test('times', () => {
    assert.equal(formatTime(0), '1970-01-01T00:00:00.000Z');
    assert.equal(formatTime(null), '-');
  });

  test('progress line: a bar when the size is known, cut to the terminal width', () => {
    const line = { label: 'events:orders', done: 5000, elapsedMs: 2000 };
    assert.equal(renderProgress({ ...line, fraction: 0.5 }), 'events:orders [##########----------]  50%  5,000 events  2,500/s  2.00s');
    assert.equal(renderProgress(line), 'events:orders  5,000 events  2,500/s  2.00s');
    assert.equal(renderProgress({ ...line, fraction: 0.5, columns: 20 }).length, 19);
    assert.equal(renderProgress({ ...line, detail: '3 retried  1 dead-lettered' }), 'events:orders  5,000 events  2,500/s  2.00s  3 retried  1 dead-lettered');
  });
});
