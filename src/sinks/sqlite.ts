import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { InvalidOptionError } from '../errors.js';
import { OptionReader } from './options.js';
import type { SqlAdapter, SqlQueryable } from './sql-adapter.js';
import { quoteName } from './sql-adapter.js';
import { parseTableMapping, TABLE_OPTION_NAMES, type SqlTableOptions } from './sql-mapping.js';
import { SqlTableSink } from './sql-table-sink.js';

/** Options of a SQLite database file. */
export interface SqliteDatabaseOptions {
  /**
   * The database file, created (with its folder) if missing. `:memory:` for a private in-memory
   * database (gone when the sink closes).
   * @default `$SLUICE_HOME/sluice.db`, else `.sluice/sluice.db`
   */
  path?: string;
  /**
   * Write-ahead logging: readers (a dashboard, `sqlite3` in a shell) never block the sink's
   * writes, and a crash never leaves a half-written transaction.
   * @default true
   */
  wal?: boolean;
  /**
   * How long a write waits for another connection's lock before failing with a retryable error.
   * better-sqlite3 is synchronous: the process waits, so keep this short.
   * @default '2s'
   */
  busyTimeout?: number | string;
  /**
   * `full`: a write resolves only once it is on disk (fsync of the WAL on every commit);
   * `normal`: faster, but the last transactions may be lost if the machine (not the process)
   * crashes.
   * @default 'full'
   */
  synchronous?: 'full' | 'normal';
}

const DATABASE_OPTION_NAMES = ['path', 'wal', 'busyTimeout', 'synchronous'] as const;

/** Where the embedded database lives when no path is given. */
export function defaultSqlitePath(): string {
  return join(process.env.SLUICE_HOME ?? '.sluice', 'sluice.db');
}

/** SQLite error codes that mean the row itself is refused (not "busy" or "disk full"). */
function isSqliteDataError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_CONSTRAINT') || code === 'SQLITE_MISMATCH' || code === 'SQLITE_TOOBIG');
}

/**
 * A SQLite database through better-sqlite3, as a `SqlAdapter`. The file is opened on first use.
 * better-sqlite3 runs statements synchronously on one connection, so transactions are queued and
 * run one at a time.
 */
export class SqliteDatabase implements SqlAdapter {
  readonly dialect = 'sqlite' as const;
  /** SQLITE_MAX_VARIABLE_NUMBER of the SQLite that better-sqlite3 12 bundles. */
  readonly maxParams = 32_766;
  readonly path: string;
  readonly #wal: boolean;
  readonly #busyTimeoutMs: number;
  readonly #synchronous: 'full' | 'normal';
  #db: Database.Database | undefined;
  readonly #statements = new Map<string, Database.Statement>();
  /** The tail of the queue of transactions and statements. */
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(options: SqliteDatabaseOptions = {}, at = '') {
    const reader = new OptionReader(options, 'a SQLite database', at);
    reader.only(DATABASE_OPTION_NAMES);
    this.path = reader.string('path') ?? defaultSqlitePath();
    this.#wal = reader.boolean('wal', true);
    this.#busyTimeoutMs = reader.duration('busyTimeout', 2000);
    this.#synchronous = reader.oneOf('synchronous', ['full', 'normal'], 'full');
  }

  query<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    return this.#exclusive(() => this.#run<R>(sql, params));
  }

  transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    return this.#exclusive(async () => {
      const db = this.#open();
      db.prepare('BEGIN IMMEDIATE').run();
      try {
        const result = await work({ query: async <R>(sql: string, params: readonly unknown[] = []) => this.#run<R>(sql, params) });
        db.prepare('COMMIT').run();
        return result;
      } catch (error) {
        if (db.inTransaction) db.prepare('ROLLBACK').run();
        throw error;
      }
    });
  }

  isDataError(error: unknown): boolean {
    return isSqliteDataError(error);
  }

  async describeTable(table: string): Promise<{ columns: string[]; uniqueKeys: string[][] } | undefined> {
    return this.#exclusive(() => {
      const db = this.#open();
      const info = db.prepare(`PRAGMA table_info(${quoteName(table)})`).all() as Array<{ name: string; pk: number }>;
      if (info.length === 0) return undefined;
      const uniqueKeys: string[][] = [];
      const primary = info.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
      if (primary.length > 0) uniqueKeys.push(primary.map((c) => c.name));
      const indexes = db.prepare(`PRAGMA index_list(${quoteName(table)})`).all() as Array<{ name: string; unique: number; partial: number }>;
      for (const index of indexes) {
        if (index.unique !== 1 || index.partial === 1) continue;
        const columns = db.prepare(`PRAGMA index_info(${quoteName(index.name)})`).all() as Array<{ name: string | null }>;
        if (columns.every((c) => c.name !== null)) uniqueKeys.push(columns.map((c) => c.name as string));
      }
      return { columns: info.map((c) => c.name), uniqueKeys };
    });
  }

  /** Closes the file once queued work is done. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue.catch(() => undefined);
    this.#statements.clear();
    this.#db?.close();
    this.#db = undefined;
  }

  /** Runs `task` after everything queued before it. */
  #exclusive<T>(task: () => T | Promise<T>): Promise<T> {
    const run = this.#queue.then(
      () => task(),
      () => task(),
    );
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #open(): Database.Database {
    if (this.#closed) throw new Error(`the SQLite database ${this.path} is closed`);
    if (this.#db) return this.#db;
    if (this.path !== ':memory:') mkdirSync(dirname(resolve(this.path)), { recursive: true });
    const db = new Database(this.path, { timeout: this.#busyTimeoutMs });
    try {
      if (this.#wal) db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${this.#synchronous.toUpperCase()}`);
    } catch (error) {
      db.close();
      throw error;
    }
    this.#db = db;
    return db;
  }

  #run<R>(sql: string, params: readonly unknown[]): R[] {
    const db = this.#open();
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = db.prepare(sql);
      // A bounded cache: the sinks prepare a handful of statement shapes, used again and again.
      if (this.#statements.size >= 64) this.#statements.delete(this.#statements.keys().next().value as string);
      this.#statements.set(sql, statement);
    }
    const values = params.map(toSqliteValue);
    if (statement.reader) return statement.all(...values) as R[];
    statement.run(...values);
    return [];
  }
}

function toSqliteValue(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof Date) return value.toISOString();
  return value;
}

/** Options of the SQLite sink: the database file and the table. */
export interface SqliteSinkOptions extends SqliteDatabaseOptions, SqlTableOptions {
  /** A database shared with other sinks (then `path` and the file options are its own). */
  database?: SqliteDatabase;
}

/**
 * Events into a SQLite table (better-sqlite3, WAL): the embedded default database of pipelines.
 * Effectively once: `INSERT … ON CONFLICT (key) DO NOTHING` in one transaction per batch.
 *
 * @example
 * new SqliteSink({ path: 'orders.db', table: 'orders', columns: { id: { from: 'id' }, amount: 'real', status: 'text' } })
 */
export class SqliteSink extends SqlTableSink {
  /**
   * @param options the database and table options
   * @param at where the options came from, for error messages (`pipelines.orders.sinks[0]`)
   */
  constructor(options: SqliteSinkOptions, at = '') {
    const reader = new OptionReader(options, 'a sqlite sink', at);
    reader.only([...DATABASE_OPTION_NAMES, ...TABLE_OPTION_NAMES, 'database']);
    const mapping = parseTableMapping(reader, false);
    const shared = options.database;
    let db: SqliteDatabase;
    if (shared !== undefined) {
      if (!(shared instanceof SqliteDatabase)) throw new InvalidOptionError(reader.path('database'), shared, 'a SqliteDatabase');
      db = shared;
    } else {
      const { path, wal, busyTimeout, synchronous } = options;
      db = new SqliteDatabase(stripUndefined({ path, wal, busyTimeout, synchronous }), at);
    }
    super({ name: `sqlite:${mapping.table}`, db, ownsDb: shared === undefined, mapping });
  }
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
