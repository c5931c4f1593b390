import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deadLetterOwner, parseConsumerFacts, parseCount, parseGroupFacts, parseHeldBack, parsePendingSummary, parseStreamFacts } from './overview-replies.js';

describe('overview replies', () => {
  test('XINFO STREAM: length, first and last IDs, entries-added; an error reply is no stream', () => {
    const reply = ['length', 2, 'radix-tree-keys', 1, 'last-generated-id', '5-0', 'entries-added', 7, 'groups', 0, 'first-entry', ['4-0', ['a', '1']], 'last-entry', ['5-0', ['a', '2']]];
    assert.deepEqual(parseStreamFacts(reply), { length: 2, firstId: '4-0', lastId: '5-0', entriesAdded: 7 });
    assert.deepEqual(parseStreamFacts(['length', 0, 'entries-added', 3, 'first-entry', null, 'last-entry', null]), { length: 0, firstId: null, lastId: null, entriesAdded: 3 });
    assert.equal(parseStreamFacts(new Error('ERR no such key')), undefined);
  });

  test('XINFO GROUPS: nil lag and entries-read stay null', () => {
    const reply = [['name', 'g', 'consumers', 2, 'pending', 3, 'last-delivered-id', '5-0', 'entries-read', null, 'lag', null]];
    assert.deepEqual(parseGroupFacts(reply), [{ name: 'g', consumers: 2, pending: 3, lastDeliveredId: '5-0', entriesRead: null, lag: null }]);
    assert.deepEqual(parseGroupFacts(new Error('x')), []);
  });

  test('XPENDING summary, XINFO CONSUMERS, counts', () => {
    assert.deepEqual(parsePendingSummary([3, '1-0', '9-0', [['c', '3']]]), { count: 3, oldestId: '1-0' });
    assert.deepEqual(parsePendingSummary([0, null, null, null]), { count: 0, oldestId: null });
    assert.deepEqual(parsePendingSummary(new Error('NOGROUP')), { count: 0, oldestId: null });
    assert.deepEqual(parseConsumerFacts([['name', 'c1', 'pending', 2, 'idle', 40, 'inactive', 40]]), [{ name: 'c1', pending: 2, idleMs: 40 }]);
    assert.equal(parseCount(12), 12);
    assert.equal(parseCount(null), null);
    assert.equal(parseCount(new Error('x')), null);
  });

  test('retention state: the holding group, or null when none', () => {
    assert.deepEqual(parseHeldBack(['group', 'billing', 'bound', '5-0', 'entries', '12']), { group: 'billing', bound: '5-0', entries: 12 });
    assert.equal(parseHeldBack([]), null);
    assert.equal(parseHeldBack(['entries', '0']), null);
  });

  test('dead-letter streams map back to their stream', () => {
    assert.equal(deadLetterOwner('{events:orders}:dlq'), 'events:orders');
    assert.equal(deadLetterOwner('{events:orders}:eu:dlq'), '{events:orders}:eu');
    assert.equal(deadLetterOwner('events:orders'), undefined);
    assert.equal(deadLetterOwner('events:dlq'), undefined);
    assert.equal(deadLetterOwner('{events:orders}:idmp'), undefined);
  });
});
