import { InvalidOptionError } from '../errors.js';
import { rollUp, type RollupField, type RollupRow } from './analytics-rollup.js';
import { DatabaseSinkLife } from './database-sink-life.js';
import { checkTableName, IDENTIFIER_RE, OptionReader } from './options.js';
import { PostgresDatabase, type PostgresDatabaseOptions } from './postgres.js';
import { hasUniqueKey, quoteName, sqlType, type SqlAdapter, type SqlQueryable } from './sql-adapter.js';
import { parseSource } from './sql-mapping.js';
import { SinkUnavailableError, type Sink, type SinkContext, type SinkEvent } from './sink.js';
import { SqliteDatabase, type SqliteDatabaseOptions } from './sqlite.js';

/** The database of an analytics sink, as a config object. */
export type SqlDatabaseConfig = ({ type: 'sqlite' } & SqliteDatabaseOptions) | ({ type: 'postgres' } & PostgresDatabaseOptions);

/** Options of the analytics (rollup) sink. */
export interface AnalyticsSinkOptions {
  /**
   * Where the rollups live: a `SqlAdapter` (e.g. a SQLite sink's `database`, not closed by this
   * sink), or a config object `{ type: 'sqlite', path }` / `{ type: 'postgres', connectionString }`.
   * @default { type: 'sqlite' } (the embedded default database)
   */
  database?: SqlAdapter | SqlDatabaseConfig;
  /** The rollup table: one row per window and group. */
  table: string;
  /**
   * The length of the tumbling windows, by event time (the event ID's milliseconds); windows
   * start at the epoch, so `1m` windows start on the minute.
   * @example '1m'
   */
  window: number | string;
  /**
   * Fields the rows are grouped by; each becomes a text column (dots in a json path become `_`).
   * An event without the field counts in the group ''.
   * @default [] (one row per window)
   * @example ['status']
   */
  groupBy?: readonly string[];
  /**
   * Numeric fields to aggregate: each `<field>` gets the columns `<field>_count` (events with a
   * number in it), `<field>_sum`, `<field>_min` and `<field>_max` (double precision). A value that
   * is not a number is left out of them (the event still counts in `count`).
   * @default []
   * @example ['amount']
   */
  measures?: readonly string[];
  /**
   * The table of the events already counted, which makes a redelivery count once.
   * @default `<table>_events`
   */
  eventsTable?: string;
  /** Create the tables when missing. @default true */
  createTables?: boolean;
}

/** A rollup row as `rows()` returns it. */
export interface AnalyticsRow {
  windowStart: number;
  windowEnd: number;
  /** The group's values by field name. */
  group: Record<string, string>;
  count: number;
  /** Aggregates by measure name. */
  measures: Record<string, { count: number; sum: number | null; min: number | null; max: number | null }>;
}

const OPTION_NAMES = ['database', 'table', 'window', 'groupBy', 'measures', 'eventsTable', 'createTables'] as const;
const RESERVED_COLUMNS = ['window_start', 'window_end', 'count'];

/**
 * Tumbling-window rollups of events (count, and count / sum / min / max of numeric fields, per
 * window and group) in a SQL table, correct when events are redelivered: in one transaction per
 * batch, the events' IDs go into the events table (`INSERT … ON CONFLICT DO NOTHING RETURNING`),
 * and only the events inserted just now are added to the rollups. An event seen before changes
 * nothing, so the rollups count every event exactly once; a batch that fails leaves no trace.
 *
 * @example
 * new AnalyticsSink({ table: 'order_stats', window: '1m', groupBy: ['status'], measures: ['amount'] })
 */
export class AnalyticsSink implements Sink {
  readonly name: string;
  readonly idempotent = true;
  readonly table: string;
  readonly eventsTable: string;
  readonly windowMs: number;
  readonly #db: SqlAdapter;
  readonly #life: DatabaseSinkLife;
  readonly #groupBy: RollupField[];
  readonly #measures: RollupField[];
  readonly #createTables: boolean;

  /**
   * @param options the rollup and its database
   * @param at where the options came from, for error messages (`pipelines.orders.sinks[0]`)
   */
  constructor(options: AnalyticsSinkOptions, at = '') {
    const reader = new OptionReader(options, 'an analytics sink', at);
    reader.only(OPTION_NAMES);
    const allowSchema = isAdapter(options.database) ? options.database.dialect === 'postgres' : (options.database as { type?: unknown } | undefined)?.type === 'postgres';
    this.table = checkTableName(reader.raw('table'), reader.path('table'), allowSchema);
    this.eventsTable = checkTableName(reader.raw('eventsTable') ?? `${this.table}_events`, reader.path('eventsTable'), allowSchema);
    if (this.eventsTable === this.table) throw new InvalidOptionError(reader.path('eventsTable'), this.eventsTable, 'a table other than `table`');
    if (!reader.has('window')) throw new InvalidOptionError(reader.path('window'), undefined, 'a window length like 1m, 5m or 1h');
    this.windowMs = reader.duration('window', 60_000, { min: 1 });
    this.#groupBy = fieldsOf(reader, 'groupBy');
    this.#measures = fieldsOf(reader, 'measures');
    const columns = [...this.#groupBy.map((f) => f.column), ...this.#measures.flatMap((f) => [`${f.column}_count`, `${f.column}_sum`, `${f.column}_min`, `${f.column}_max`])];
    const clash = columns.find((c, i) => RESERVED_COLUMNS.includes(c) || columns.indexOf(c) !== i);
    if (clash) throw new InvalidOptionError(reader.path(this.#groupBy.some((f) => f.column === clash) ? 'groupBy' : 'measures'), clash, `fields whose columns do not clash (\`${clash}\` is used twice or reserved)`);
    this.#createTables = reader.boolean('createTables', true);
    const database = options.database ?? { type: 'sqlite' };
    this.#db = isAdapter(database) ? database : openDatabase(database, reader.path('database'));
    this.name = `analytics:${this.table}`;
    this.#life = new DatabaseSinkLife(this.name, this.#db, !isAdapter(database));
  }

  /** The database the rollups are written to. */
  get database(): SqlAdapter {
    return this.#db;
  }

  write(events: readonly SinkEvent[], ctx: SinkContext): Promise<void> {
    return this.#life.write(() => this.#write(events, ctx));
  }

  close(): Promise<void> {
    return this.#life.close();
  }

  /** Creates the tables when missing and checks their keys. Safe to call again. */
  prepare(): Promise<void> {
    return this.#life.prepare(() => this.#prepare());
  }

  /** The rollup rows, oldest window first (for reports and tests). */
  async rows(): Promise<AnalyticsRow[]> {
    await this.prepare();
    const t = (column: string) => quoteName(column);
    const order = ['window_start', ...this.#groupBy.map((f) => f.column)].map(t).join(', ');
    const rows = await this.#db.query<Record<string, unknown>>(`SELECT * FROM ${quoteName(this.table)} ORDER BY ${order}`);
    return rows.map((row) => ({
      windowStart: timeOf(row.window_start),
      windowEnd: timeOf(row.window_end),
      group: Object.fromEntries(this.#groupBy.map((f) => [f.name, String(row[f.column])])),
      count: Number(row.count),
      measures: Object.fromEntries(
        this.#measures.map((f) => [
          f.name,
          {
            count: Number(row[`${f.column}_count`]),
            sum: numberOrNull(row[`${f.column}_sum`]),
            min: numberOrNull(row[`${f.column}_min`]),
            max: numberOrNull(row[`${f.column}_max`]),
          },
        ]),
      ),
    }));
  }

  async #write(events: readonly SinkEvent[], ctx: SinkContext): Promise<void> {
    if (ctx.signal.aborted) throw new SinkUnavailableError(`${this.name}: the write was aborted before it started`, { cause: ctx.signal.reason });
    if (events.length === 0) return;
    try {
      await this.prepare();
      await this.#db.transaction((tx) => this.#apply(tx, events));
    } catch (error) {
      // A rollup refuses no event (a bad value is left out of the sums), so every failure is the database's.
      throw new SinkUnavailableError(`${this.name}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }

  async #apply(tx: SqlQueryable, events: readonly SinkEvent[]): Promise<void> {
    // Each event once, even if the batch holds it twice; sorted, so concurrent batches lock rows in one order.
    const unique = new Map<string, SinkEvent>();
    for (const event of events) unique.set(`${event.stream}\0${event.id}`, event);
    const batch = [...unique.values()].sort((a, b) => (a.stream < b.stream ? -1 : a.stream > b.stream ? 1 : compareIds(a.id, b.id)));
    const fresh: SinkEvent[] = [];
    const perStatement = Math.max(1, Math.min(500, Math.floor(this.#db.maxParams / 3)));
    for (let i = 0; i < batch.length; i += perStatement) {
      const chunk = batch.slice(i, i + perStatement);
      const inserted = await tx.query<{ stream: string; event_id: string }>(
        `INSERT INTO ${quoteName(this.eventsTable)} (stream, event_id, window_start) VALUES ${chunk.map(() => '(?, ?, ?)').join(', ')} ` +
          'ON CONFLICT (stream, event_id) DO NOTHING RETURNING stream, event_id',
        chunk.flatMap((e) => [e.stream, e.id, new Date(Math.floor(e.time / this.windowMs) * this.windowMs)]),
      );
      const added = new Set(inserted.map((row) => `${row.stream}\0${row.event_id}`));
      for (const event of chunk) if (added.has(`${event.stream}\0${event.id}`)) fresh.push(event);
    }
    if (fresh.length === 0) return;
    const rows = rollUp(fresh, { windowMs: this.windowMs, groupBy: this.#groupBy, measures: this.#measures });
    const perRow = 3 + this.#groupBy.length + 4 * this.#measures.length;
    const rowsPerStatement = Math.max(1, Math.min(500, Math.floor(this.#db.maxParams / perRow)));
    for (let i = 0; i < rows.length; i += rowsPerStatement) {
      const chunk = rows.slice(i, i + rowsPerStatement);
      await tx.query(this.#upsertSql(chunk.length), chunk.flatMap((row) => this.#values(row)));
    }
  }

  #values(row: RollupRow): unknown[] {
    return [
      new Date(row.windowStart),
      new Date(row.windowEnd),
      ...row.group,
      row.count,
      ...row.measures.flatMap((m) => [m.count, m.sum, m.min, m.max]),
    ];
  }

  #upsertSql(rows: number): string {
    const measureColumns = this.#measures.flatMap((f) => [`${f.column}_count`, `${f.column}_sum`, `${f.column}_min`, `${f.column}_max`]);
    const columns = ['window_start', 'window_end', ...this.#groupBy.map((f) => f.column), 'count', ...measureColumns];
    const tuple = `(${columns.map(() => '?').join(', ')})`;
    const key = ['window_start', ...this.#groupBy.map((f) => f.column)];
    const old = (column: string) => `t.${quoteName(column)}`;
    const add = (column: string) => `${quoteName(column)} = ${old(column)} + excluded.${quoteName(column)}`;
    // NULL (no value yet) on either side: keep the other; both set: combine.
    const merge = (column: string, combine: string) =>
      `${quoteName(column)} = CASE WHEN ${old(column)} IS NULL THEN excluded.${quoteName(column)} WHEN excluded.${quoteName(column)} IS NULL THEN ${old(column)} ELSE ${combine} END`;
    const updates = [add('count')];
    for (const f of this.#measures) {
      const c = (suffix: string) => `${f.column}_${suffix}`;
      updates.push(add(c('count')));
      updates.push(merge(c('sum'), `${old(c('sum'))} + excluded.${quoteName(c('sum'))}`));
      updates.push(merge(c('min'), `CASE WHEN excluded.${quoteName(c('min'))} < ${old(c('min'))} THEN excluded.${quoteName(c('min'))} ELSE ${old(c('min'))} END`));
      updates.push(merge(c('max'), `CASE WHEN excluded.${quoteName(c('max'))} > ${old(c('max'))} THEN excluded.${quoteName(c('max'))} ELSE ${old(c('max'))} END`));
    }
    return (
      `INSERT INTO ${quoteName(this.table)} AS t (${columns.map(quoteName).join(', ')}) VALUES ${Array.from({ length: rows }, () => tuple).join(', ')} ` +
      `ON CONFLICT (${key.map(quoteName).join(', ')}) DO UPDATE SET ${updates.join(', ')}`
    );
  }

  async #prepare(): Promise<void> {
    const dialect = this.#db.dialect;
    const time = sqlType(dialect, 'timestamp');
    const integer = sqlType(dialect, 'integer');
    const real = sqlType(dialect, 'real');
    const rollupKey = ['window_start', ...this.#groupBy.map((f) => f.column)];
    const rollupColumns = [
      `window_start ${time} NOT NULL`,
      `window_end ${time} NOT NULL`,
      ...this.#groupBy.map((f) => `${quoteName(f.column)} ${sqlType(dialect, 'text')} NOT NULL`),
      `${quoteName('count')} ${integer} NOT NULL`,
      ...this.#measures.flatMap((f) => [
        `${quoteName(`${f.column}_count`)} ${integer} NOT NULL`,
        `${quoteName(`${f.column}_sum`)} ${real}`,
        `${quoteName(`${f.column}_min`)} ${real}`,
        `${quoteName(`${f.column}_max`)} ${real}`,
      ]),
      `PRIMARY KEY (${rollupKey.map(quoteName).join(', ')})`,
    ];
    const eventColumns = [`stream ${sqlType(dialect, 'text')} NOT NULL`, `event_id ${sqlType(dialect, 'text')} NOT NULL`, `window_start ${time} NOT NULL`, 'PRIMARY KEY (stream, event_id)'];
    await this.#ensureTable(this.table, rollupColumns, rollupKey);
    await this.#ensureTable(this.eventsTable, eventColumns, ['stream', 'event_id']);
  }

  async #ensureTable(table: string, definitions: string[], key: string[]): Promise<void> {
    let described = await this.#db.describeTable(table);
    if (!described && this.#createTables) {
      try {
        await this.#db.query(`CREATE TABLE IF NOT EXISTS ${quoteName(table)} (${definitions.join(', ')})`);
      } catch (error) {
        if (!(await this.#db.describeTable(table))) throw error;
      }
      described = await this.#db.describeTable(table);
    }
    if (!described) throw new Error(`the table ${table} does not exist (createTables is false): create it first`);
    if (!hasUniqueKey(described.uniqueKeys, key)) {
      throw new Error(`the table ${table} has no PRIMARY KEY or UNIQUE constraint on (${key.join(', ')}); it was made for other options: drop it or use another table`);
    }
  }
}

function fieldsOf(reader: OptionReader, option: string): RollupField[] {
  const names = reader.stringList(option, 'a list of field names, like ["status"]') ?? [];
  return names.map((name, i) => {
    const column = name.replace(/\./g, '_');
    if (!IDENTIFIER_RE.test(column) || name.startsWith('$')) {
      throw new InvalidOptionError(reader.path(`${option}[${i}]`), name, 'a field name of letters, digits and _ (a json path may use dots)');
    }
    return { name, column, source: parseSource(name, reader.path(`${option}[${i}]`)) };
  });
}

function isAdapter(value: unknown): value is SqlAdapter {
  return typeof value === 'object' && value !== null && typeof (value as SqlAdapter).transaction === 'function' && typeof (value as SqlAdapter).dialect === 'string';
}

function openDatabase(config: unknown, option: string): SqlAdapter {
  const reader = new OptionReader(config, 'a database', option);
  const type = reader.oneOf('type', ['sqlite', 'postgres'], 'sqlite');
  const { type: _type, ...rest } = config as { type?: string };
  return type === 'sqlite' ? new SqliteDatabase(rest, option) : new PostgresDatabase(rest, option);
}

function compareIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  return Number(am) - Number(bm) || Number(as) - Number(bs) || (a < b ? -1 : a > b ? 1 : 0);
}

function timeOf(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  return typeof value === 'number' ? value : Date.parse(String(value));
}

function numberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}
