import Database from 'better-sqlite3';
import pg from 'pg';
import type { StoredEvent } from '../conformance.js';

/** How the SQL sinks' tests map the order events of `orderEvents` to table columns. */
export const ORDER_COLUMNS = {
  event_id: { from: 'id' },
  stream: 'text',
  created_at: { from: 'time' },
  order_id: 'text',
  customer_id: 'text',
  amount: 'real',
  status: 'text',
} as const;

/** A row stored with ORDER_COLUMNS, read back as the conformance suite compares events. */
export function storedOrder(row: Record<string, unknown>): StoredEvent {
  return {
    id: String(row.event_id),
    fields: { order_id: String(row.order_id), customer_id: String(row.customer_id), amount: String(row.amount), status: String(row.status) },
  };
}

/**
 * Another connection takes the write lock of the SQLite database at `path` (BEGIN EXCLUSIVE): a
 * sink's transaction waits its busyTimeout, then fails, until the returned function releases it.
 */
export function holdSqliteWriteLock(path: string): () => Promise<void> {
  const other = new Database(path);
  other.exec('BEGIN EXCLUSIVE');
  return async () => {
    other.exec('COMMIT');
    other.close();
  };
}

/**
 * A PostgreSQL connection of the test's own runs `sql` (a lock, say) in a transaction that it holds
 * open until the returned function rolls it back and disconnects.
 */
export async function holdPostgresTransaction(url: string, sql: string): Promise<() => Promise<void>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('BEGIN');
  await client.query(sql);
  return async () => {
    await client.query('ROLLBACK');
    await client.end();
  };
}
