import pg from 'pg';
import { InvalidOptionError } from '../errors.js';
import { logger } from '../observe/logger.js';
import { OptionReader } from './options.js';
import { quoteName, type SqlAdapter, type SqlQueryable } from './sql-adapter.js';
import { parseTableMapping, TABLE_OPTION_NAMES, type SqlTableOptions } from './sql-mapping.js';
import { SqlTableSink } from './sql-table-sink.js';

/** Options of a PostgreSQL connection pool. */
export interface PostgresDatabaseOptions {
  /**
   * `postgres://user:password@host:5432/database` (any libpq URL node-postgres accepts).
   * @default process.env.DATABASE_URL
   */
  connectionString?: string;
  /**
   * Most connections the pool opens; concurrent batches each take one for their transaction.
   * @default 10
   */
  poolSize?: number;
  /**
   * The longest a statement may run (PostgreSQL's `statement_timeout`, waiting for locks
   * included); then it fails with a retryable error instead of holding the batch forever.
   * @default '30s'
   */
  queryTimeout?: number | string;
  /**
   * How long opening a connection may take.
   * @default '10s'
   */
  connectTimeout?: number | string;
}

const DATABASE_OPTION_NAMES = ['connectionString', 'poolSize', 'queryTimeout', 'connectTimeout'] as const;

/**
 * PostgreSQL through a node-postgres pool, as a `SqlAdapter`. `?` placeholders become `$1, $2…`.
 * No connection is opened before the first statement.
 */
export class PostgresDatabase implements SqlAdapter {
  readonly dialect = 'postgres' as const;
  /** The wire protocol's limit on the parameters of one statement. */
  readonly maxParams = 65_535;
  readonly pool: pg.Pool;
  readonly #ownsPool: boolean;
  #closed: Promise<void> | undefined;

  /**
   * @param options the connection, or `{ pool }` to use a pool of the caller's (not closed by `close()`)
   * @param at where the options came from, for error messages
   */
  constructor(options: PostgresDatabaseOptions & { pool?: pg.Pool } = {}, at = '') {
    const reader = new OptionReader(options, 'a PostgreSQL database', at);
    reader.only([...DATABASE_OPTION_NAMES, 'pool']);
    if (options.pool !== undefined) {
      if (!(options.pool instanceof pg.Pool)) throw new InvalidOptionError(reader.path('pool'), options.pool, 'a pg.Pool');
      this.pool = options.pool;
      this.#ownsPool = false;
      return;
    }
    const connectionString = reader.string('connectionString') ?? process.env.DATABASE_URL;
    if (!connectionString) {
      throw new InvalidOptionError(reader.path('connectionString'), undefined, 'a PostgreSQL URL like postgres://user:password@host:5432/db (or set DATABASE_URL)');
    }
    if (!/^postgres(ql)?:\/\//.test(connectionString)) {
      throw new InvalidOptionError(reader.path('connectionString'), redact(connectionString), 'a URL starting with postgres:// or postgresql://');
    }
    const statementTimeout = reader.duration('queryTimeout', 30_000, { min: 1 });
    this.pool = new pg.Pool({
      connectionString,
      max: reader.integer('poolSize', 10, { min: 1, max: 1000 }),
      statement_timeout: statementTimeout,
      // Also a client-side deadline, for a server that stopped answering altogether.
      query_timeout: statementTimeout + 5_000,
      connectionTimeoutMillis: reader.duration('connectTimeout', 10_000, { min: 1 }),
    });
    // An idle connection that breaks (the server restarts) is reported here; the pool drops it
    // and the next statement opens a new one. Without a listener, Node would crash the process.
    this.pool.on('error', (error) => logger.warn({ err: error }, 'a PostgreSQL connection of the pool failed while idle'));
    this.#ownsPool = true;
  }

  async query<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    const result = await this.pool.query(numberedParams(sql), params.map(toPgValue));
    return result.rows as R[];
  }

  async transaction<T>(work: (tx: SqlQueryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      try {
        const result = await work({
          query: async <R>(sql: string, params: readonly unknown[] = []) => (await client.query(numberedParams(sql), params.map(toPgValue))).rows as R[],
        });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch((rollbackError: unknown) => {
          broken = rollbackError as Error; // the connection is gone: do not give it back to the pool
        });
        throw error;
      }
    } catch (error) {
      broken ??= isConnectionError(error) ? (error as Error) : undefined;
      throw error;
    } finally {
      client.release(broken);
    }
  }

  isDataError(error: unknown): boolean {
    const code = (error as { code?: unknown } | null)?.code;
    // Class 22: data exception (bad input syntax, out of range); class 23: integrity constraint violation.
    return typeof code === 'string' && code.length === 5 && (code.startsWith('22') || code.startsWith('23'));
  }

  async describeTable(table: string): Promise<{ columns: string[]; uniqueKeys: string[][] } | undefined> {
    const name = quoteName(table);
    const [found] = await this.query<{ exists: boolean }>('SELECT to_regclass(?) IS NOT NULL AS exists', [name]);
    if (!found?.exists) return undefined;
    const columns = await this.query<{ name: string }>(
      'SELECT attname::text AS name FROM pg_attribute WHERE attrelid = to_regclass(?) AND attnum > 0 AND NOT attisdropped ORDER BY attnum',
      [name],
    );
    const keys = await this.query<{ columns: string[] }>(
      `SELECT array_agg(a.attname::text ORDER BY k.ord) AS columns
         FROM pg_index i
         CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
         JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
        WHERE i.indrelid = to_regclass(?) AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
        GROUP BY i.indexrelid`,
      [name],
    );
    return { columns: columns.map((c) => c.name), uniqueKeys: keys.map((k) => k.columns) };
  }

  /** Ends the pool (unless it was passed in). Safe to call twice. */
  close(): Promise<void> {
    this.#closed ??= this.#ownsPool ? this.pool.end() : Promise.resolve();
    return this.#closed;
  }
}

/** `?` placeholders as PostgreSQL's `$1, $2…` (the SQL the sinks build has no `?` of its own). */
export function numberedParams(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

function toPgValue(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'bigint') return value.toString();
  return value;
}

function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (typeof code === 'string' && (code.startsWith('08') || /^E[A-Z]+$/.test(code))) || (error instanceof Error && /Connection terminated/.test(error.message));
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/** Options of the PostgreSQL sink: the connection and the table. */
export interface PostgresSinkOptions extends PostgresDatabaseOptions, SqlTableOptions {
  /** A database (pool) shared with other sinks; the connection options are then its own. */
  database?: PostgresDatabase;
}

/**
 * Events into a PostgreSQL table (node-postgres pool): one transaction of multi-row
 * `INSERT … ON CONFLICT (key) DO NOTHING` per batch, so a redelivered event never adds a row.
 *
 * @example
 * new PostgresSink({ connectionString: process.env.DATABASE_URL, table: 'orders', columns: { id: { from: 'id' }, amount: 'numeric' } })
 */
export class PostgresSink extends SqlTableSink {
  /**
   * @param options the connection and table options
   * @param at where the options came from, for error messages (`pipelines.orders.sinks[0]`)
   */
  constructor(options: PostgresSinkOptions, at = '') {
    const reader = new OptionReader(options, 'a postgres sink', at);
    reader.only([...DATABASE_OPTION_NAMES, ...TABLE_OPTION_NAMES, 'database']);
    const mapping = parseTableMapping(reader, true);
    const shared = options.database;
    if (shared !== undefined && !(shared instanceof PostgresDatabase)) throw new InvalidOptionError(reader.path('database'), shared, 'a PostgresDatabase');
    const { connectionString, poolSize, queryTimeout, connectTimeout } = options;
    const connection = Object.fromEntries(Object.entries({ connectionString, poolSize, queryTimeout, connectTimeout }).filter(([, v]) => v !== undefined));
    const db = shared ?? new PostgresDatabase(connection, at);
    super({ name: `postgres:${mapping.table}`, db, ownsDb: shared === undefined, mapping });
  }
}
