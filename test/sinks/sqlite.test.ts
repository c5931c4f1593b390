import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { InvalidOptionError, isRetryableSinkError, SinkRejectedError, SqliteSink, type SinkEvent } from '../../src/index.js';
import { useTempDir } from '../helpers/fixtures.js';
import { context, orderEvents, sinkConformance, type StoredEvent } from './conformance.js';
import { holdSqliteWriteLock, ORDER_COLUMNS, storedOrder } from './helpers/sql-targets.js';

const dir = useTempDir('sluice-test-sqlite-');
let files = 0;

function newPath(): string {
  return join(dir.path, `sink-${++files}.db`);
}

/** Rows of a table, read through a connection of the test's own. */
function rows(path: string, sql: string): Array<Record<string, unknown>> {
  if (!existsSync(path)) return [];
  const db = new Database(path, { readonly: true });
  try {
    const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'orders'").get();
    return exists ? (db.prepare(sql).all() as Array<Record<string, unknown>>) : [];
  } finally {
    db.close();
  }
}

sinkConformance(
  'sqlite',
  { idempotent: true, ordered: true, storesFields: true, transientFailure: true, rejectsWrites: true, poisonEvent: 'event' },
  async () => {
    const path = newPath();
    const sink = new SqliteSink({ path, table: 'orders', columns: { ...ORDER_COLUMNS }, busyTimeout: 50 });
    return {
      sink,
      read: async (): Promise<StoredEvent[]> => rows(path, 'SELECT * FROM orders ORDER BY rowid').map(storedOrder),
      // Another connection holds the write lock: the sink's transaction waits busyTimeout, then fails.
      fail: async () => {
        await sink.prepare();
        return holdSqliteWriteLock(path);
      },
      // A trigger that refuses every row, as a table closed for writes would.
      reject: async () => {
        await sink.prepare();
        const other = new Database(path);
        other.exec("CREATE TRIGGER refuse BEFORE INSERT ON orders BEGIN SELECT RAISE(ABORT, 'orders are closed'); END");
        return async () => {
          other.exec('DROP TRIGGER refuse');
          other.close();
        };
      },
      poison: (event: SinkEvent) => ({ ...event, fields: { ...event.fields, amount: 'ninety-nine' } }),
    };
  },
);

describe('sqlite sink', () => {
  test('uses WAL, and by default stores stream, id, time, payload and meta, keyed on (stream, id)', async () => {
    const path = newPath();
    const sink = new SqliteSink({ path, table: 'orders' });
    const json: SinkEvent = { stream: 'events:json', id: '1700000000123-4', time: 1_700_000_000_123, data: { order: { id: 7 }, tags: ['a'] }, meta: { type: 'order.created' } };
    const [plain] = orderEvents(1) as [SinkEvent];
    // The same ID on another stream (another partition) is another event.
    const twin: SinkEvent = { ...plain, stream: 'events:orders:1' };
    await sink.write([plain, json, twin], context());
    await sink.write([plain, json], context());
    await sink.close();
    const db = new Database(path, { readonly: true });
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      const columns = (db.prepare('PRAGMA table_info(orders)').all() as Array<{ name: string; pk: number }>).map((c) => [c.name, c.pk]);
      assert.deepEqual(columns, [['stream', 1], ['id', 2], ['time', 0], ['payload', 0], ['meta', 0]]);
      const stored = db.prepare('SELECT * FROM orders ORDER BY rowid').all() as Array<Record<string, string | null>>;
      assert.equal(stored.length, 3);
      assert.deepEqual(stored[0], { stream: plain.stream, id: plain.id, time: new Date(plain.time).toISOString(), payload: JSON.stringify(plain.fields), meta: null });
      assert.deepEqual(stored[1], {
        stream: 'events:json',
        id: json.id,
        time: '2023-11-14T22:13:20.123Z',
        payload: JSON.stringify(json.data),
        meta: JSON.stringify({ type: 'order.created' }),
      });
      assert.equal(stored[2]?.stream, 'events:orders:1');
    } finally {
      db.close();
    }
  });

  test('maps fields, metadata and json paths to typed columns', async () => {
    const path = newPath();
    const sink = new SqliteSink({
      path,
      table: 'orders',
      columns: {
        id: { from: 'id' },
        qty: { from: 'data.line.qty', type: 'integer' },
        big: { from: 'data.big', type: 'integer' },
        price: { from: 'data.line.price', type: 'numeric' },
        gift: { from: 'gift', type: 'boolean' },
        paid_at: { from: 'paid_at', type: 'timestamp' },
        line: { from: 'data.line', type: 'json' },
        kind: { from: 'meta.type' },
        note: 'text',
      },
    });
    const base = { stream: 'events:json', time: 1_700_000_000_000 };
    await sink.write(
      [
        { ...base, id: '1-1', data: { line: { qty: '3', price: '19.99' }, big: '9007199254740993', gift: 'yes', paid_at: '2026-11-25T10:00:00Z', note: 42 }, meta: { type: 'order' } },
        { ...base, id: '1-2', data: { line: { qty: 4 }, gift: false, paid_at: 1_700_000_000_000 } },
      ],
      context(),
    );
    await sink.close();
    const db = new Database(path, { readonly: true });
    db.defaultSafeIntegers(true);
    try {
      const [a, b] = db.prepare('SELECT * FROM orders ORDER BY id').all() as Array<Record<string, unknown>>;
      assert.deepEqual(a, { id: '1-1', qty: 3n, big: 9007199254740993n, price: 19.99, gift: 1n, paid_at: '2026-11-25T10:00:00.000Z', line: '{"qty":"3","price":"19.99"}', kind: 'order', note: '42' });
      assert.deepEqual(b, { id: '1-2', qty: 4n, big: null, price: null, gift: 0n, paid_at: '2023-11-14T22:13:20.000Z', line: '{"qty":4}', kind: null, note: null });
    } finally {
      db.close();
    }
  });

  test('a configured key (a field) makes a second event with the same key a no-op', async () => {
    const path = newPath();
    const sink = new SqliteSink({ path, table: 'orders', columns: { order_id: 'text', event_id: { from: 'id' }, status: 'text' }, key: 'order_id' });
    const [first, second] = orderEvents(2) as [SinkEvent, SinkEvent];
    const again = { ...second, fields: { ...second.fields, order_id: first.fields?.order_id as string, status: 'late' } };
    await sink.write([first, again, second], context());
    await sink.close();
    assert.deepEqual(
      rows(path, 'SELECT order_id, event_id FROM orders ORDER BY rowid'),
      [{ order_id: first.fields?.order_id, event_id: first.id }, { order_id: second.fields?.order_id, event_id: second.id }],
    );
  });

  test('a row the database refuses (CHECK constraint) is refused alone; the rest of the batch is stored', async () => {
    const path = newPath();
    const setup = new Database(path);
    setup.exec('CREATE TABLE orders (event_id TEXT PRIMARY KEY, amount REAL CHECK (amount >= 0))');
    setup.close();
    const sink = new SqliteSink({ path, table: 'orders', columns: { event_id: { from: 'id' }, amount: 'real' } });
    const events = orderEvents(3);
    const negative = { ...(events[1] as SinkEvent), fields: { amount: '-5' } };
    await assert.rejects(sink.write([events[0] as SinkEvent, negative, events[2] as SinkEvent], context()), (error: unknown) => {
      assert.ok(error instanceof SinkRejectedError);
      assert.deepEqual(error.eventIds, [negative.id]);
      assert.match(error.message, /CHECK constraint/);
      return true;
    });
    await sink.close();
    assert.deepEqual(rows(path, 'SELECT event_id FROM orders ORDER BY rowid').map((r) => r.event_id), [events[0]?.id, events[2]?.id]);
  });

  test('an existing table without a unique key on the key columns fails retryably, saying what to create', async () => {
    const path = newPath();
    const setup = new Database(path);
    setup.exec('CREATE TABLE orders (event_id TEXT, status TEXT)');
    const sink = new SqliteSink({ path, table: 'orders', columns: { event_id: { from: 'id' }, status: 'text' } });
    const events = orderEvents(2);
    await assert.rejects(sink.write(events, context()), (error: unknown) => {
      assert.ok(isRetryableSinkError(error));
      assert.match((error as Error).message, /no PRIMARY KEY or UNIQUE constraint on \(event_id\).*CREATE UNIQUE INDEX/);
      return true;
    });
    setup.exec('CREATE UNIQUE INDEX orders_event_id ON orders (event_id)');
    setup.close();
    await sink.write(events, context());
    await sink.write(events, context());
    await sink.close();
    assert.equal(rows(path, 'SELECT * FROM orders').length, 2);
  });

  test('a table missing a mapped column, or missing with createTable false, fails retryably with the reason', async () => {
    const path = newPath();
    const none = new SqliteSink({ path, table: 'orders', createTable: false });
    await assert.rejects(none.write(orderEvents(1), context()), /the table orders does not exist \(createTable is false\)/);
    await none.close();
    const setup = new Database(path);
    setup.exec('CREATE TABLE orders (id TEXT PRIMARY KEY)');
    setup.close();
    const sink = new SqliteSink({ path, table: 'orders', columns: { id: { from: 'id' }, status: 'text', amount: 'real' } });
    await assert.rejects(sink.write(orderEvents(1), context()), /has no column status, amount/);
    await sink.close();
  });

  test('options are checked when the sink is built, naming the option', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ table: 'orders', tabel: 'x' }, /`tabel`.*did you mean `table`/],
      [{ table: 'orders; DROP TABLE x' }, /`table` to be a table name/],
      [{ table: 'orders', columns: { amount: 'float' } }, /`columns.amount.type` to be `text` or `integer`/],
      [{ table: 'orders', columns: { amount: 'real' } }, /`key` to be the column\(s\) that identify an event/],
      [{ table: 'orders', columns: { id: { from: 'id' } }, key: 'order_id' }, /`key` to be column names among the columns \(id\)/],
      [{ table: 'orders', columns: { id: { from: 'id', nullable: true } } }, /`columns.id.nullable` to be `false` for a key column/],
      [{ table: 'orders', busyTimeout: 'soon' }, /`busyTimeout` to be a duration/],
      [{ table: 'orders', synchronous: 'off' }, /`synchronous` to be `full` or `normal`/],
    ];
    for (const [options, message] of cases) {
      assert.throws(() => new SqliteSink(options as never), (error: unknown) => error instanceof Error && message.test(error.message), `${JSON.stringify(options)} → ${message}`);
    }
    assert.throws(() => new SqliteSink({ table: 'orders', columns: { amount: 'float' } } as never, 'sinks[1]'), (error: unknown) => {
      assert.ok(error instanceof InvalidOptionError);
      assert.equal(error.option, 'sinks[1].columns.amount.type');
      return true;
    });
  });
});
