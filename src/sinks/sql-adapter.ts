import type { ColumnType } from './sql-mapping.js';

export type SqlDialect = 'sqlite' | 'postgres';

/** Runs statements. Parameters are written `?` in the SQL, whatever the database. */
export interface SqlQueryable {
  /** Runs one statement and resolves to the rows it returned (none for most writes). */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<R[]>;
}

/**
 * The little a SQL sink needs from a database: statements, transactions, and which of its errors
 * mean "these rows are bad" (refused for good) rather than "not now" (retry). SQLite
 * (`SqliteDatabase`) and PostgreSQL (`PostgresDatabase`) implement it; the analytics sink writes
 * its rollups through it.
 */
export interface SqlAdapter extends SqlQueryable {
  readonly dialect: SqlDialect;
  /** Most parameters one statement may carry. */
  readonly maxParams: number;
  /**
   * Runs `work` in one transaction: committed when it resolves, rolled back when it throws.
   * Transactions of one adapter may run concurrently (PostgreSQL) or one after another (SQLite).
   * Inside `work`, run statements through `tx` only: on SQLite, the adapter's own `query` waits
   * for the transaction to end.
   */
  transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T>;
  /** True when an error means the rows themselves are refused (a constraint, a bad value). */
  isDataError(error: unknown): boolean;
  /** The unique constraints (and primary key) of a table, each as its column names; undefined when the table does not exist. */
  describeTable(table: string): Promise<{ columns: string[]; uniqueKeys: string[][] } | undefined>;
  /** Releases the database connection(s). */
  close(): Promise<void>;
}

/** `"name"`, or `"schema"."name"`. Names are checked against IDENTIFIER_RE before they get here. */
export function quoteName(name: string): string {
  return name
    .split('.')
    .map((part) => `"${part.replace(/"/g, '""')}"`)
    .join('.');
}

/** The SQL type of a column type in a dialect. */
export function sqlType(dialect: SqlDialect, type: ColumnType): string {
  if (dialect === 'sqlite') {
    return { text: 'TEXT', integer: 'INTEGER', real: 'REAL', numeric: 'NUMERIC', boolean: 'INTEGER', timestamp: 'TEXT', json: 'TEXT' }[type];
  }
  return { text: 'text', integer: 'bigint', real: 'double precision', numeric: 'numeric', boolean: 'boolean', timestamp: 'timestamptz', json: 'jsonb' }[type];
}

/** True when `columns` has a unique key on exactly `key` (in any order). */
export function hasUniqueKey(uniqueKeys: readonly (readonly string[])[], key: readonly string[]): boolean {
  const wanted = [...key].sort().join('\0');
  return uniqueKeys.some((columns) => [...columns].sort().join('\0') === wanted);
}
