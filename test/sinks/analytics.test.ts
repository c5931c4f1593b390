import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { AnalyticsSink, PostgresDatabase, SqliteSink, type AnalyticsRow, type AnalyticsSinkOptions, type SinkEvent } from '../../src/index.js';
import { useTempDir } from '../helpers/fixtures.js';
import { usePostgres } from '../helpers/postgres.js';
import { context, sinkConformance, type StoredEvent } from './conformance.js';
import { holdPostgresTransaction, holdSqliteWriteLock } from './helpers/sql-targets.js';

const dir = useTempDir('sluice-test-analytics-');
const postgres = usePostgres();
let n = 0;

const ROLLUP = { window: '1m', groupBy: ['status'], measures: ['amount'] } as const;

/** Checks that the rollup counts exactly the events its events table holds, then returns those. */
function checkedRead(rows: () => Promise<{ events: StoredEvent[]; counted: number }>) {
  return async (): Promise<StoredEvent[]> => {
    const { events, counted } = await rows();
    assert.equal(counted, events.length, 'the rollup counts each recorded event once');
    return events;
  };
}

sinkConformance(
  'analytics (sqlite)',
  { idempotent: true, ordered: false, storesFields: false, transientFailure: true, rejectsWrites: false, poisonEvent: false },
  async () => {
    const path = join(dir.path, `stats-${++n}.db`);
    const sink = new AnalyticsSink({ database: { type: 'sqlite', path, busyTimeout: 50 }, table: 'order_stats', ...ROLLUP });
    return {
      sink,
      read: checkedRead(async () => {
        if (!existsSync(path)) return { events: [], counted: 0 };
        const db = new Database(path, { readonly: true });
        try {
          if (!db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'order_stats_events'").get()) return { events: [], counted: 0 };
          const events = (db.prepare('SELECT event_id FROM order_stats_events').all() as Array<{ event_id: string }>).map((r) => ({ id: r.event_id }));
          const counted = Number((db.prepare('SELECT coalesce(sum(count), 0) AS c FROM order_stats').get() as { c: number }).c);
          return { events, counted };
        } finally {
          db.close();
        }
      }),
      fail: async () => {
        await sink.prepare();
        return holdSqliteWriteLock(path);
      },
    };
  },
);

sinkConformance(
  'analytics (postgres)',
  { idempotent: true, ordered: false, storesFields: false, transientFailure: true, rejectsWrites: false, poisonEvent: false },
  async () => {
    const table = `order_stats_${++n}`;
    const sink = new AnalyticsSink({ database: { type: 'postgres', connectionString: postgres.server.url, queryTimeout: '300ms', poolSize: 4 }, table, ...ROLLUP });
    return {
      sink,
      read: checkedRead(async () => {
        const [exists] = await postgres.server.query<{ found: boolean }>('SELECT to_regclass($1) IS NOT NULL AS found', [`${table}_events`]);
        if (!exists?.found) return { events: [], counted: 0 };
        const events = (await postgres.server.query<{ event_id: string }>(`SELECT event_id FROM ${table}_events`)).map((r) => ({ id: r.event_id }));
        const [sum] = await postgres.server.query<{ c: string }>(`SELECT coalesce(sum(count), 0) AS c FROM ${table}`);
        return { events, counted: Number(sum?.c) };
      }),
      fail: async () => {
        await sink.prepare();
        return holdPostgresTransaction(postgres.server.url, `LOCK TABLE ${table}_events IN ACCESS EXCLUSIVE MODE`);
      },
    };
  },
);

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 10, 25, 10, 0, 0);
const STATUSES = ['pending', 'paid', 'shipped'];

/** Orders over four minutes, 13 s apart, with amounts in quarters (exact in binary floating point). */
function orders(count: number, stream = 'events:orders'): SinkEvent[] {
  return Array.from({ length: count }, (_, i) => {
    const fields: Record<string, string> = { order_id: String(i), status: STATUSES[i % 3] as string, amount: String((i % 17) * 0.25 + 1) };
    if (i % 10 === 9) fields.amount = 'n/a'; // not a number: counted, but not summed
    if (i % 11 === 10) delete fields.status; // no status: the group ''
    return { stream, id: `${T0 + i * 13_000}-${i % 2}`, time: T0 + i * 13_000, fields };
  });
}

/** The rollup of events computed the plain way, each event once. */
function expected(events: readonly SinkEvent[]): AnalyticsRow[] {
  const rows = new Map<string, AnalyticsRow>();
  const seen = new Set<string>();
  for (const event of events) {
    if (seen.has(`${event.stream} ${event.id}`)) continue;
    seen.add(`${event.stream} ${event.id}`);
    const windowStart = event.time - (event.time % MINUTE);
    const status = event.fields?.status ?? '';
    const key = `${windowStart} ${status}`;
    const row = rows.get(key) ?? { windowStart, windowEnd: windowStart + MINUTE, group: { status }, count: 0, measures: { amount: { count: 0, sum: null, min: null, max: null } } };
    rows.set(key, row);
    row.count++;
    const amount = Number(event.fields?.amount);
    if (!Number.isNaN(amount)) {
      const m = row.measures.amount as { count: number; sum: number | null; min: number | null; max: number | null };
      m.count++;
      m.sum = (m.sum ?? 0) + amount;
      m.min = m.min === null || amount < m.min ? amount : m.min;
      m.max = m.max === null || amount > m.max ? amount : m.max;
    }
  }
  return [...rows.values()].sort((a, b) => a.windowStart - b.windowStart || (a.group.status as string).localeCompare(b.group.status as string));
}

/** Deterministic shuffled subsets, so a failure can be replayed. */
function subsets(events: readonly SinkEvent[], count: number, size: number): SinkEvent[][] {
  let seed = 42;
  const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  return Array.from({ length: count }, () => Array.from({ length: size }, () => events[Math.floor(random() * events.length)] as SinkEvent));
}

function backends(): Array<[string, () => AnalyticsSinkOptions['database']]> {
  return [
    ['sqlite', () => ({ type: 'sqlite', path: join(dir.path, `stats-${++n}.db`) })],
    ['postgres', () => ({ type: 'postgres', connectionString: postgres.server.url })],
  ];
}

describe('analytics sink', () => {
  for (const [backend, database] of backends()) {
    test(`${backend}: per-minute count, sum, min and max per status, each event counted once however often it is written`, async () => {
      const sink = new AnalyticsSink({ database: database(), table: `stats_${++n}`, ...ROLLUP });
      const events = orders(40);
      await sink.write(events.slice(0, 25), context());
      await sink.write(events.slice(20), context()); // overlaps the first batch
      for (const batch of subsets(events, 5, 15)) await sink.write(batch, context()); // redeliveries, duplicates within a batch
      // Concurrent overlapping batches: the events table decides which one counts an event.
      await Promise.all(subsets(events, 6, 20).map((batch) => sink.write(batch, context())));
      const rows = await sink.rows();
      await sink.close();
      assert.deepEqual(rows, expected(events));
      assert.equal(rows.reduce((sum, row) => sum + row.count, 0), 40);
      assert.ok(rows.some((row) => row.group.status === ''), 'events without a status are grouped under ""');
      assert.ok(new Set(rows.map((row) => row.windowStart)).size >= 8, 'the events span several windows');
    });
  }

  test('the same event ID from two streams (partitions) counts twice; json paths group and sum', async () => {
    const path = join(dir.path, `stats-${++n}.db`);
    const sink = new AnalyticsSink({ database: { type: 'sqlite', path }, table: 'tiers', window: '1h', groupBy: ['customer.tier'], measures: ['line.total'] });
    const event = (stream: string, id: string, tier: string, total: number): SinkEvent => ({ stream, id, time: T0, data: { customer: { tier }, line: { total } } });
    await sink.write([event('events:orders:0', '1-0', 'gold', 10), event('events:orders:1', '1-0', 'gold', 5), event('events:orders:0', '2-0', 'silver', 1)], context());
    await sink.write([event('events:orders:1', '1-0', 'gold', 5)], context());
    const rows = await sink.rows();
    await sink.close();
    assert.deepEqual(
      rows.map((r) => [r.group, r.count, r.measures['line.total']]),
      [
        [{ 'customer.tier': 'gold' }, 2, { count: 2, sum: 15, min: 5, max: 10 }],
        [{ 'customer.tier': 'silver' }, 1, { count: 1, sum: 1, min: 1, max: 1 }],
      ],
    );
    const db = new Database(path, { readonly: true });
    const columns = (db.prepare('PRAGMA table_info(tiers)').all() as Array<{ name: string }>).map((c) => c.name);
    db.close();
    assert.deepEqual(columns, ['window_start', 'window_end', 'customer_tier', 'count', 'line_total_count', 'line_total_sum', 'line_total_min', 'line_total_max']);
  });

  test('shares a SQLite database with a table sink: both write the same file', async () => {
    const path = join(dir.path, `shared-${++n}.db`);
    const orderSink = new SqliteSink({ path, table: 'orders' });
    const stats = new AnalyticsSink({ database: orderSink.database, table: 'order_stats', ...ROLLUP });
    const events = orders(30);
    await Promise.all([orderSink.write(events, context()), stats.write(events, context()), orderSink.write(events.slice(5), context()), stats.write(events.slice(5), context())]);
    await stats.close(); // does not close the shared database
    await orderSink.write(events.slice(0, 1), context());
    await orderSink.close();
    const db = new Database(path, { readonly: true });
    try {
      assert.equal((db.prepare('SELECT count(*) AS c FROM orders').get() as { c: number }).c, 30);
      assert.equal((db.prepare('SELECT sum(count) AS c FROM order_stats').get() as { c: number }).c, 30);
    } finally {
      db.close();
    }
  });

  test('a schema-qualified PostgreSQL table through a shared PostgresDatabase', async () => {
    await postgres.server.query('CREATE SCHEMA IF NOT EXISTS reports');
    const database = new PostgresDatabase({ connectionString: postgres.server.url });
    const sink = new AnalyticsSink({ database, table: 'reports.order_stats', ...ROLLUP });
    await sink.write(orders(12), context());
    await sink.close();
    const [row] = await postgres.server.query<{ c: string }>('SELECT sum(count) AS c FROM reports.order_stats');
    assert.equal(row?.c, '12');
    assert.equal((await database.query<{ c: string }>('SELECT count(*) AS c FROM reports.order_stats_events'))[0]?.c, '12', 'the shared pool is still open');
    await database.close();
  });

  test('options are checked when the sink is built', () => {
    const base = { database: { type: 'sqlite', path: ':memory:' }, table: 'stats' } as const;
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...base }, /`window` to be a window length like 1m/],
      [{ ...base, window: 'hourly' }, /`window` to be a duration/],
      [{ ...base, window: '1m', groupBy: ['count'] }, /`groupBy` to be fields whose columns do not clash/],
      [{ ...base, window: '1m', groupBy: ['a-b'] }, /`groupBy\[0\]` to be a field name/],
      [{ ...base, window: '1m', measures: 'amount', groupBy: ['amount_sum'] }, /clash/],
      [{ ...base, window: '1m', eventsTable: 'stats' }, /`eventsTable` to be a table other than `table`/],
      [{ ...base, window: '1m', database: { type: 'mysql' } }, /`database.type` to be `sqlite` or `postgres`/],
      [{ ...base, window: '1m', database: { type: 'sqlite', file: 'x' } }, /`database.file`.*a SQLite database has no such option/],
    ];
    for (const [options, message] of cases) {
      assert.throws(() => new AnalyticsSink(options as never), (error: unknown) => error instanceof Error && message.test(error.message), `${JSON.stringify(options)} → ${message}`);
    }
  });
});
