import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { freePort } from '../../src/redis/managed-server.js';
import { isRetryableSinkError, PostgresSink, SinkRejectedError, SinkUnavailableError, type SinkEvent } from '../../src/index.js';
import { usePostgres } from '../helpers/postgres.js';
import { context, orderEvents, sinkConformance, type StoredEvent } from './conformance.js';
import { holdPostgresTransaction, ORDER_COLUMNS, storedOrder } from './helpers/sql-targets.js';

const postgres = usePostgres();
let tables = 0;

function newTable(): string {
  return `orders_${++tables}`;
}

async function tableRows(table: string, orderBy = 'event_id'): Promise<Array<Record<string, unknown>>> {
  const [exists] = await postgres.server.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [table]);
  return exists?.found ? postgres.server.query(`SELECT * FROM ${table} ORDER BY ${orderBy}`) : [];
}

sinkConformance(
  'postgres',
  { idempotent: true, ordered: false, storesFields: true, transientFailure: true, rejectsWrites: true, poisonEvent: 'event' },
  async () => {
    const table = newTable();
    const sink = new PostgresSink({ connectionString: postgres.server.url, table, columns: { ...ORDER_COLUMNS }, poolSize: 4, queryTimeout: '300ms' });
    return {
      sink,
      read: async (): Promise<StoredEvent[]> => (await tableRows(table)).map(storedOrder),
      // Another session locks the table: the INSERT waits, and statement_timeout (queryTimeout) ends it.
      fail: async () => {
        await sink.prepare();
        return holdPostgresTransaction(postgres.server.url, `LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
      },
      // A trigger that refuses every row with a constraint error, as a closed partition would.
      reject: async () => {
        await sink.prepare();
        await postgres.server.query(`CREATE FUNCTION refuse_${table}() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'orders are closed' USING ERRCODE = 'check_violation'; END $$ LANGUAGE plpgsql`);
        await postgres.server.query(`CREATE TRIGGER refuse BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION refuse_${table}()`);
        return async () => {
          await postgres.server.query(`DROP TRIGGER refuse ON ${table}`);
        };
      },
      poison: (event: SinkEvent) => ({ ...event, fields: { ...event.fields, amount: 'ninety-nine' } }),
    };
  },
);

describe('postgres sink', () => {
  test('by default stores stream, id, timestamptz time, jsonb payload and meta, keyed on (stream, id)', async () => {
    const table = newTable();
    const sink = new PostgresSink({ connectionString: postgres.server.url, table });
    const [plain] = orderEvents(1) as [SinkEvent];
    const json: SinkEvent = { stream: 'events:json', id: '1700000000123-4', time: 1_700_000_000_123, data: { order: { id: 7 }, tags: ['a'] }, meta: { type: 'order.created' } };
    const twin: SinkEvent = { ...plain, stream: 'events:orders:1' };
    await sink.write([plain, json, twin], context());
    await sink.write([json, plain], context());
    await sink.close();
    const columns = await postgres.server.query<{ column_name: string; data_type: string }>(
      'SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position',
      [table],
    );
    assert.deepEqual(columns.map((c) => [c.column_name, c.data_type]), [
      ['stream', 'text'],
      ['id', 'text'],
      ['time', 'timestamp with time zone'],
      ['payload', 'jsonb'],
      ['meta', 'jsonb'],
    ]);
    const rows = await postgres.server.query<Record<string, unknown>>(`SELECT * FROM ${table} ORDER BY stream, id`);
    assert.deepEqual(rows, [
      { stream: 'events:json', id: json.id, time: new Date(json.time), payload: json.data, meta: { type: 'order.created' } },
      { stream: 'events:orders', id: plain.id, time: new Date(plain.time), payload: plain.fields, meta: null },
      { stream: 'events:orders:1', id: plain.id, time: new Date(plain.time), payload: plain.fields, meta: null },
    ]);
  });

  test('a batch is one transaction of multi-row inserts, whatever its size', async () => {
    const table = newTable();
    const sink = new PostgresSink({ connectionString: postgres.server.url, table, columns: { ...ORDER_COLUMNS } });
    await sink.write(orderEvents(1200), context());
    await sink.close();
    const [stats] = await postgres.server.query<{ rows: string; transactions: string }>(`SELECT count(*) AS rows, count(DISTINCT xmin::text) AS transactions FROM ${table}`);
    assert.deepEqual(stats, { rows: '1200', transactions: '1' });
  });

  test('typed columns, a schema-qualified table, and a configured key', async () => {
    await postgres.server.query('CREATE SCHEMA IF NOT EXISTS shop');
    const sink = new PostgresSink({
      connectionString: postgres.server.url,
      table: 'shop.orders',
      columns: {
        order_id: 'integer',
        event_id: { from: 'id' },
        price: { from: 'data.price', type: 'numeric' },
        gift: { from: 'gift', type: 'boolean' },
        line: { from: 'data.line', type: 'json' },
        kind: { from: 'meta.type' },
      },
      key: 'order_id',
    });
    const base = { stream: 'events:json', time: 1_700_000_000_000 };
    await sink.write(
      [
        { ...base, id: '1-1', data: { order_id: '9007199254740993', price: '19.990', gift: 'true', line: { qty: 2 } }, meta: { type: 'order' } },
        { ...base, id: '1-2', data: { order_id: 9007199254740993n.toString(), price: '1' } },
        { ...base, id: '1-3', data: { order_id: 5, price: 0.5, gift: 0 } },
      ],
      context(),
    );
    await sink.close();
    const rows = await postgres.server.query<Record<string, unknown>>('SELECT * FROM shop.orders ORDER BY event_id');
    assert.deepEqual(rows, [
      { order_id: '9007199254740993', event_id: '1-1', price: '19.990', gift: true, line: { qty: 2 }, kind: 'order' },
      { order_id: '5', event_id: '1-3', price: '0.5', gift: false, line: null, kind: null },
    ]);
  });

  test('a row the database refuses (CHECK constraint) is refused alone; the rest of the batch is stored', async () => {
    const table = newTable();
    await postgres.server.query(`CREATE TABLE ${table} (event_id text PRIMARY KEY, amount double precision CHECK (amount >= 0))`);
    const sink = new PostgresSink({ connectionString: postgres.server.url, table, columns: { event_id: { from: 'id' }, amount: 'real' } });
    const events = orderEvents(4);
    const negative = { ...(events[2] as SinkEvent), fields: { amount: '-5' } };
    await assert.rejects(sink.write([events[0], events[1], negative, events[3]] as SinkEvent[], context()), (error: unknown) => {
      assert.ok(error instanceof SinkRejectedError, String(error));
      assert.deepEqual(error.eventIds, [negative.id]);
      assert.match(error.message, /check constraint/);
      return true;
    });
    await sink.close();
    assert.deepEqual((await tableRows(table)).map((r) => r.event_id), [events[0]?.id, events[1]?.id, events[3]?.id]);
  });

  test('two sinks creating the same table at once both succeed, and store each event once', async () => {
    const table = newTable();
    const sinks = [0, 1].map(() => new PostgresSink({ connectionString: postgres.server.url, table, columns: { ...ORDER_COLUMNS } }));
    const events = orderEvents(40);
    await Promise.all(sinks.map((sink) => sink.write(events, context())));
    await Promise.all(sinks.map((sink) => sink.close()));
    assert.equal((await tableRows(table)).length, 40);
  });

  test('an existing table without a unique key on the key fails retryably, saying what to create', async () => {
    const table = newTable();
    await postgres.server.query(`CREATE TABLE ${table} (event_id text, status text)`);
    const sink = new PostgresSink({ connectionString: postgres.server.url, table, columns: { event_id: { from: 'id' }, status: 'text' } });
    const events = orderEvents(2);
    await assert.rejects(sink.write(events, context()), (error: unknown) => {
      assert.ok(isRetryableSinkError(error));
      assert.match((error as Error).message, /no PRIMARY KEY or UNIQUE constraint on \(event_id\)/);
      return true;
    });
    await postgres.server.query(`CREATE UNIQUE INDEX ON ${table} (event_id)`);
    await sink.write(events, context());
    await sink.write(events, context());
    await sink.close();
    assert.equal((await tableRows(table)).length, 2);
  });

  test('a server that is not there is a retryable error, within connectTimeout', async () => {
    const port = await freePort();
    const sink = new PostgresSink({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`, table: 'orders', connectTimeout: '2s' });
    const started = Date.now();
    await assert.rejects(sink.write(orderEvents(1), context()), (error: unknown) => {
      assert.ok(error instanceof SinkUnavailableError, String(error));
      assert.match(error.message, /ECONNREFUSED/);
      return true;
    });
    assert.ok(Date.now() - started < 2500);
    await sink.close();
  });

  test('options are checked when the sink is built', () => {
    const saved = process.env.DATABASE_URL;
    delete process.env.DATABASE_URL;
    try {
      assert.throws(() => new PostgresSink({ table: 'orders' }), /`connectionString` to be a PostgreSQL URL.*DATABASE_URL/);
      assert.throws(() => new PostgresSink({ connectionString: 'mysql://x', table: 'orders' }), /`connectionString` to be a URL starting with postgres:\/\//);
      assert.throws(() => new PostgresSink({ connectionString: postgres.server.url, table: 'a.b.c' }), /`table` to be a table name/);
      assert.throws(() => new PostgresSink({ connectionString: postgres.server.url, table: 'orders', poolSize: 0 }), /`poolSize` to be a whole number from 1 to 1000/);
      assert.throws(
        () => new PostgresSink({ connectionString: 'postgres://u:secret@h/db', table: 'orders', queryTimeout: 'never' }, 'sinks[2]'),
        (error: unknown) => error instanceof Error && /`sinks\[2\].queryTimeout`/.test(error.message) && !/secret/.test(error.message),
      );
      process.env.DATABASE_URL = postgres.server.url;
      const fromEnv = new PostgresSink({ table: 'orders' });
      assert.equal(fromEnv.name, 'postgres:orders');
      void fromEnv.close();
    } finally {
      if (saved === undefined) delete process.env.DATABASE_URL;
      else process.env.DATABASE_URL = saved;
    }
  });
});
