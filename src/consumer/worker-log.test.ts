import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { WorkerLog } from './worker-log.js';

function capture(level: string) {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { lines, log: new WorkerLog(log.child({ stream: 'events:orders', group: 'billing', consumer: 'w1' })) };
}

const pick = (line: Record<string, unknown> | undefined, ...keys: string[]) => Object.fromEntries(keys.map((k) => [k, line?.[k]]));

test('unheard dead letters are warnings, heard ones debug lines; both carry the event and the worker', () => {
  const { lines, log } = capture('debug');
  const payload = { id: '1-0', deadLetterId: '2-0', reason: 'max-deliveries', error: 'boom', deliveryCount: 5 };
  log.deadLettered(payload, false);
  log.deadLettered(payload, true);
  assert.deepEqual(lines.map((l) => l.level), [40, 20]);
  assert.deepEqual(pick(lines[0], 'stream', 'group', 'consumer', 'eventId', 'deadLetterId', 'reason', 'deliveryCount', 'error', 'msg'), {
    stream: 'events:orders',
    group: 'billing',
    consumer: 'w1',
    eventId: '1-0',
    deadLetterId: '2-0',
    reason: 'max-deliveries',
    deliveryCount: 5,
    error: 'boom',
    msg: 'dead-lettered 1-0 (max-deliveries)',
  });
});

test('reclaims list at most 20 IDs, with the full count; errors keep their event ID', () => {
  const { lines, log } = capture('info');
  const ids = Array.from({ length: 25 }, (_, n) => `${n}-0`);
  log.reclaimed({ ids, count: 25 }, false);
  log.reclaimed({ ids: ['1-0'], count: 1 }, true); // heard: debug, below the level
  log.error({ error: new Error('NOGROUP'), context: 'dead-lettering 7-0', eventId: '7-0' });
  assert.equal(lines.length, 2);
  assert.deepEqual(pick(lines[0], 'level', 'count', 'msg'), { level: 30, count: 25, msg: 'reclaimed 25 entries' });
  assert.deepEqual(lines[0]?.eventIds, ids.slice(0, 20));
  assert.deepEqual(pick(lines[1], 'level', 'eventId', 'msg', 'group'), { level: 50, eventId: '7-0', msg: 'dead-lettering 7-0', group: 'billing' });
  assert.equal((lines[1]?.err as { message: string }).message, 'NOGROUP');
});

test('retries are debug lines, and cost nothing above debug', () => {
  const quiet = capture('info');
  quiet.log.retrying('1-0', 2, 200, new Error('down'));
  assert.deepEqual(quiet.lines, []);
  const verbose = capture('debug');
  verbose.log.retrying('1-0', 2, 200.4, new Error('down'));
  assert.deepEqual(pick(verbose.lines[0], 'level', 'eventId', 'deliveryCount', 'delayMs', 'msg'), {
    level: 20,
    eventId: '1-0',
    deliveryCount: 2,
    delayMs: 200.4,
    msg: 'retrying 1-0 in 200 ms',
  });
});
