import { hasUniqueKey, quoteName, sqlType, type SqlAdapter, type SqlQueryable } from './sql-adapter.js';
import { RowError, rowOf, type SqlValue, type TableMapping } from './sql-mapping.js';
import { SinkRejectedError, SinkUnavailableError, type Sink, type SinkContext, type SinkEvent } from './sink.js';
import { DatabaseSinkLife } from './database-sink-life.js';

/** Most rows in one INSERT statement (each statement also stays under the database's parameter limit). */
const MAX_ROWS_PER_STATEMENT = 500;

interface PendingRow {
  event: SinkEvent;
  values: SqlValue[];
}

/**
 * Events into a SQL table, effectively once: each batch is one transaction of multi-row
 * `INSERT … ON CONFLICT (key) DO NOTHING`, so an event written again (a redelivery after a crash,
 * a retried batch) leaves the table as it was. The SQLite and PostgreSQL sinks are this class on
 * their database.
 *
 * An event whose values do not fit the table (a bad number, a missing required value, a CHECK
 * constraint) is refused with `SinkRejectedError` naming it in `eventIds`; the rest of the batch
 * is stored. Any other failure (locked, unreachable, timed out) is a retryable
 * `SinkUnavailableError` and nothing of the batch is stored.
 */
export class SqlTableSink implements Sink {
  readonly name: string;
  readonly idempotent = true;
  readonly mapping: TableMapping;
  readonly #db: SqlAdapter;
  readonly #life: DatabaseSinkLife;

  constructor(options: { name: string; db: SqlAdapter; ownsDb: boolean; mapping: TableMapping }) {
    this.name = options.name;
    this.#db = options.db;
    this.#life = new DatabaseSinkLife(options.name, options.db, options.ownsDb);
    this.mapping = options.mapping;
  }

  /** The database the sink writes to. */
  get database(): SqlAdapter {
    return this.#db;
  }

  write(events: readonly SinkEvent[], ctx: SinkContext): Promise<void> {
    return this.#life.write(() => this.#write(events, ctx));
  }

  /** Waits for writes in progress, then releases the database (unless it was passed in). */
  close(): Promise<void> {
    return this.#life.close();
  }

  /** Creates the table if needed and checks it has the columns and the unique key. Safe to call again. */
  prepare(): Promise<void> {
    return this.#life.prepare(() => this.#prepare());
  }

  async #write(events: readonly SinkEvent[], ctx: SinkContext): Promise<void> {
    if (ctx.signal.aborted) throw new SinkUnavailableError(`${this.name}: the write was aborted before it started`, { cause: ctx.signal.reason });
    if (events.length === 0) return;
    try {
      await this.prepare();
    } catch (error) {
      throw unavailable(this.name, error);
    }
    const rows: PendingRow[] = [];
    const refused: Array<{ id: string; message: string }> = [];
    for (const event of events) {
      try {
        rows.push({ event, values: rowOf(this.mapping, event) });
      } catch (error) {
        if (!(error instanceof RowError)) throw error;
        refused.push({ id: event.id, message: error.message });
      }
    }
    if (rows.length > 0) {
      try {
        await this.#db.transaction((tx) => this.#insert(tx, rows));
      } catch (error) {
        if (!this.#db.isDataError(error)) throw unavailable(this.name, error);
        // The database refused some row of the batch: store the others, one savepoint each.
        try {
          refused.push(...(await this.#insertEach(rows)));
        } catch (retryError) {
          throw unavailable(this.name, retryError);
        }
      }
    }
    if (refused.length > 0) {
      const first = refused[0] as { message: string };
      throw new SinkRejectedError(
        `${this.name}: ${refused.length} of ${events.length} events refused (${first.message})${refused.length > 1 ? ' and others' : ''}`,
        { eventIds: refused.map((r) => r.id), reasons: new Map(refused.map((r) => [r.id, r.message])) },
      );
    }
  }

  async #insert(tx: SqlQueryable, rows: readonly PendingRow[]): Promise<void> {
    const perStatement = Math.max(1, Math.min(MAX_ROWS_PER_STATEMENT, Math.floor(this.#db.maxParams / this.mapping.columns.length)));
    for (let start = 0; start < rows.length; start += perStatement) {
      const chunk = rows.slice(start, start + perStatement);
      await tx.query(this.#insertSql(chunk.length), chunk.flatMap((row) => row.values));
    }
  }

  async #insertEach(rows: readonly PendingRow[]): Promise<Array<{ id: string; message: string }>> {
    return this.#db.transaction(async (tx) => {
      const refused: Array<{ id: string; message: string }> = [];
      const sql = this.#insertSql(1);
      for (const row of rows) {
        await tx.query('SAVEPOINT sluice_row');
        try {
          await tx.query(sql, row.values);
        } catch (error) {
          if (!this.#db.isDataError(error)) throw error;
          await tx.query('ROLLBACK TO SAVEPOINT sluice_row');
          refused.push({ id: row.event.id, message: `event ${row.event.id}: ${(error as Error).message}` });
        }
        await tx.query('RELEASE SAVEPOINT sluice_row');
      }
      return refused;
    });
  }

  #insertSql(rows: number): string {
    const { table, columns, key } = this.mapping;
    const tuple = `(${columns.map(() => '?').join(', ')})`;
    return (
      `INSERT INTO ${quoteName(table)} (${columns.map((c) => quoteName(c.name)).join(', ')}) VALUES ` +
      Array.from({ length: rows }, () => tuple).join(', ') +
      ` ON CONFLICT (${key.map(quoteName).join(', ')}) DO NOTHING`
    );
  }

  async #prepare(): Promise<void> {
    const { table, columns, key, createTable } = this.mapping;
    let described = await this.#db.describeTable(table);
    if (!described && createTable) {
      const definitions = columns.map((c) => `${quoteName(c.name)} ${sqlType(this.#db.dialect, c.type)}${c.nullable ? '' : ' NOT NULL'}`);
      definitions.push(`PRIMARY KEY (${key.map(quoteName).join(', ')})`);
      try {
        await this.#db.query(`CREATE TABLE IF NOT EXISTS ${quoteName(table)} (${definitions.join(', ')})`);
      } catch (error) {
        // Two sinks creating the same table at once: PostgreSQL may fail the second on its catalog.
        if (!(await this.#db.describeTable(table))) throw error;
      }
      described = await this.#db.describeTable(table);
    }
    if (!described) throw new Error(`the table ${table} does not exist (createTable is false): create it first`);
    const missing = columns.filter((c) => !described.columns.includes(c.name)).map((c) => c.name);
    if (missing.length > 0) throw new Error(`the table ${table} has no column ${missing.join(', ')}: add it, or change the sink's columns`);
    if (!hasUniqueKey(described.uniqueKeys, key)) {
      throw new Error(
        `the table ${table} has no PRIMARY KEY or UNIQUE constraint on (${key.join(', ')}), which ON CONFLICT needs to store each event once: ` +
          `CREATE UNIQUE INDEX ON ${table} (${key.join(', ')}), or set the sink's key to the table's key`,
      );
    }
  }
}

function unavailable(name: string, error: unknown): SinkUnavailableError {
  if (error instanceof SinkUnavailableError) return error;
  return new SinkUnavailableError(`${name}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}
