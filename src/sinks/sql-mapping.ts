import { InvalidOptionError, show } from '../errors.js';
import { checkTableName, IDENTIFIER_RE, OptionReader } from './options.js';
import type { SinkEvent } from './sink.js';

/**
 * Column types of the SQL sinks, and what each becomes in SQLite / PostgreSQL:
 * `text` TEXT / text, `integer` INTEGER / bigint, `real` REAL / double precision,
 * `numeric` NUMERIC / numeric (exact decimals, passed as text), `boolean` INTEGER 0-1 / boolean,
 * `timestamp` TEXT ISO-8601 / timestamptz, `json` TEXT / jsonb.
 */
export type ColumnType = 'text' | 'integer' | 'real' | 'numeric' | 'boolean' | 'timestamp' | 'json';

export const COLUMN_TYPES: readonly ColumnType[] = ['text', 'integer', 'real', 'numeric', 'boolean', 'timestamp', 'json'];

/** One column of a SQL sink's table. */
export interface ColumnOptions {
  /**
   * Where the value comes from:
   * - `id`, `stream`, `time`: the event's ID, the stream it was read from, its time;
   * - `payload`: all of its fields (or its `data`) as JSON; `meta`: its `$` metadata as JSON;
   * - `meta.<name>`: one metadata value (`meta.type`, `meta.key`);
   * - `fields.<name>`: a field by its exact name; `data.<a.b>`: a path into a json event's data;
   * - any other name: the field of that name (json events: a dotted path into `data`).
   * @default the column's own name (a field of that name)
   * @example { from: 'order_id' }
   */
  from?: string;
  /**
   * The column's type; values are converted to it, and an event whose value cannot be is refused
   * (dead-lettered) while the rest of the batch is stored.
   * @default 'timestamp' for `time`, 'json' for `payload` and `meta`, else 'text'
   */
  type?: ColumnType;
  /**
   * Whether the value may be missing (stored as NULL). An event without it is refused otherwise.
   * @default true, false for the key columns
   */
  nullable?: boolean;
}

/** The table options shared by the SQLite and PostgreSQL sinks. */
export interface SqlTableOptions {
  /** The table the events go to. `schema.table` is accepted by PostgreSQL. */
  table: string;
  /**
   * Columns by name, each a type or a `ColumnOptions`, in table order.
   * @default { stream: 'text', id: 'text', time: 'timestamp', payload: 'json', meta: 'json' }
   * @example { event_id: { from: 'id' }, created_at: { from: 'time' }, order_id: 'text', amount: 'real', status: 'text' }
   */
  columns?: Record<string, ColumnType | ColumnOptions>;
  /**
   * The column(s) that identify an event: a write of an event whose key is already in the table
   * does nothing (`INSERT … ON CONFLICT (key) DO NOTHING`), so a redelivery never adds a row.
   * The table needs a PRIMARY KEY or UNIQUE constraint on exactly these columns (a table the sink
   * creates has one).
   * @default the columns mapped from `stream` and `id` (or `id` alone when no column holds the stream)
   * @example 'order_id'
   */
  key?: string | readonly string[];
  /**
   * Create the table (with a primary key on `key`) when it does not exist.
   * @default true
   */
  createTable?: boolean;
}

export type Source =
  | { kind: 'id' | 'stream' | 'time' | 'payload' | 'meta' }
  | { kind: 'meta-field'; name: string }
  | { kind: 'field'; name: string }
  | { kind: 'data'; path: string[] }
  | { kind: 'field-or-path'; name: string; path: string[] };

export interface Column {
  readonly name: string;
  readonly type: ColumnType;
  readonly from: string;
  readonly source: Source;
  readonly nullable: boolean;
}

/** A table mapping, checked. */
export interface TableMapping {
  readonly table: string;
  readonly columns: readonly Column[];
  /** Names of the key columns. */
  readonly key: readonly string[];
  readonly createTable: boolean;
}

/** A value as the sinks hand it to a driver: the adapter converts Date, boolean and bigint. */
export type SqlValue = string | number | bigint | boolean | Date | null;

/** An event's value does not fit its column: the event is refused, the rest of the batch stored. */
export class RowError extends Error {
  constructor(readonly column: string, message: string) {
    super(message);
  }
}

const DEFAULT_COLUMNS: Record<string, ColumnOptions> = {
  stream: { from: 'stream', type: 'text' },
  id: { from: 'id', type: 'text' },
  time: { from: 'time', type: 'timestamp' },
  payload: { from: 'payload', type: 'json' },
  meta: { from: 'meta', type: 'json' },
};

export const TABLE_OPTION_NAMES = ['table', 'columns', 'key', 'createTable'] as const;

/** Reads and checks the table options of a SQL sink. */
export function parseTableMapping(reader: OptionReader, allowSchema: boolean): TableMapping {
  const table = checkTableName(reader.raw('table'), reader.path('table'), allowSchema);
  const rawColumns = reader.record('columns', 'an object of columns by name, like { order_id: "text", amount: { type: "real" } }') ?? DEFAULT_COLUMNS;
  const names = Object.keys(rawColumns);
  if (names.length === 0) throw new InvalidOptionError(reader.path('columns'), rawColumns, 'at least one column');
  const keyList = reader.stringList('key', 'a column name or a list of column names');
  const parsed = names.map((name) => parseColumn(reader.path(`columns.${name}`), name, rawColumns[name]));
  let key: string[];
  if (keyList) {
    for (const name of keyList) {
      if (!names.includes(name)) throw new InvalidOptionError(reader.path('key'), reader.raw('key'), `column names among the columns (${names.join(', ')})`);
    }
    key = [...new Set(keyList)];
  } else {
    const idColumn = parsed.find((c) => c.source.kind === 'id');
    if (!idColumn) {
      throw new InvalidOptionError(
        reader.path('key'),
        undefined,
        'the column(s) that identify an event: map a column from the event ID (columns: { event_id: { from: "id" } }) or name the key column(s)',
      );
    }
    const streamColumn = parsed.find((c) => c.source.kind === 'stream');
    key = streamColumn ? [streamColumn.name, idColumn.name] : [idColumn.name];
  }
  const columns = parsed.map((c) => {
    const raw = rawColumns[c.name];
    const explicit = typeof raw === 'object' && raw !== null && (raw as ColumnOptions).nullable !== undefined;
    return key.includes(c.name) && !explicit ? { ...c, nullable: false } : c;
  });
  for (const name of key) {
    const column = columns.find((c) => c.name === name) as Column;
    if (column.nullable) throw new InvalidOptionError(reader.path(`columns.${name}.nullable`), true, '`false` for a key column');
  }
  return { table, columns, key, createTable: reader.boolean('createTable', true) };
}

function parseColumn(option: string, name: string, raw: unknown): Column {
  if (!IDENTIFIER_RE.test(name)) {
    throw new InvalidOptionError(option, name, 'a column name of letters, digits and _ (not starting with a digit)');
  }
  const spec: ColumnOptions = typeof raw === 'string' ? { type: raw as ColumnType } : (raw as ColumnOptions);
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) {
    throw new InvalidOptionError(option, raw, `a type (${COLUMN_TYPES.join(', ')}) or an object like { from: "amount", type: "real" }`);
  }
  const reader = new OptionReader(spec, 'a column', option);
  reader.only(['from', 'type', 'nullable']);
  const from = reader.string('from') ?? name;
  const source = parseSource(from, reader.path('from'));
  const defaultType: ColumnType = source.kind === 'time' ? 'timestamp' : source.kind === 'payload' || source.kind === 'meta' ? 'json' : 'text';
  const type = reader.oneOf('type', COLUMN_TYPES, defaultType);
  return { name, type, from, source, nullable: reader.boolean('nullable', true) };
}

/** Where a value comes from (see `ColumnOptions.from`), checked. */
export function parseSource(from: string, option: string): Source {
  if (from === 'id' || from === 'stream' || from === 'time' || from === 'payload' || from === 'meta') return { kind: from };
  const bad = (what: string) => new InvalidOptionError(option, from, what);
  if (from.startsWith('meta.')) {
    const name = from.slice(5);
    if (!name) throw bad('a metadata name after `meta.`, like meta.type');
    return { kind: 'meta-field', name };
  }
  if (from.startsWith('fields.')) {
    const name = from.slice(7);
    if (!name) throw bad('a field name after `fields.`, like fields.amount');
    return { kind: 'field', name };
  }
  if (from.startsWith('data.')) {
    const path = from.slice(5).split('.');
    if (path.some((p) => p.length === 0)) throw bad('a path after `data.`, like data.customer.id');
    return { kind: 'data', path };
  }
  const path = from.split('.');
  if (path.some((p) => p.length === 0)) throw bad('a field name or a dotted path like customer.id');
  return { kind: 'field-or-path', name: from, path };
}

/** The raw value of a column's source in an event (undefined when absent). */
export function sourceValue(event: SinkEvent, source: Source): unknown {
  switch (source.kind) {
    case 'id':
      return event.id;
    case 'stream':
      return event.stream;
    case 'time':
      return event.time;
    case 'payload':
      return event.fields ?? event.data;
    case 'meta':
      return event.meta && Object.keys(event.meta).length > 0 ? event.meta : undefined;
    case 'meta-field':
      return event.meta?.[source.name];
    case 'field':
      return event.fields?.[source.name];
    case 'data':
      return atPath(event.data, source.path);
    case 'field-or-path':
      if (event.fields) return Object.hasOwn(event.fields, source.name) ? event.fields[source.name] : undefined;
      return atPath(event.data, source.path);
  }
}

function atPath(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const part of path) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** The row of an event, in column order. Throws `RowError` when a value does not fit its column. */
export function rowOf(mapping: TableMapping, event: SinkEvent): SqlValue[] {
  const row: SqlValue[] = [];
  for (const column of mapping.columns) {
    const raw = sourceValue(event, column.source);
    if (raw === undefined || raw === null) {
      if (!column.nullable) throw new RowError(column.name, `event ${event.id} has no value for column \`${column.name}\` (from \`${column.from}\`), which is required`);
      row.push(null);
      continue;
    }
    const value = convert(column.type, raw);
    if (value === undefined) {
      throw new RowError(column.name, `event ${event.id}: column \`${column.name}\` (${column.type}, from \`${column.from}\`) cannot hold ${show(raw)}`);
    }
    row.push(value);
  }
  return row;
}

export const INTEGER_RE = /^[+-]?\d+$/;
export const DECIMAL_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Converts a value to a column type; undefined when it cannot be. */
export function convert(type: ColumnType, value: unknown): SqlValue | undefined {
  switch (type) {
    case 'text':
      if (typeof value === 'string') return value;
      if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
      return JSON.stringify(value);
    case 'integer': {
      if (typeof value === 'number') return Number.isSafeInteger(value) ? value : undefined;
      if (typeof value === 'bigint') return value;
      if (typeof value !== 'string') return undefined;
      const text = value.trim();
      if (!INTEGER_RE.test(text)) return undefined;
      const big = BigInt(text);
      // 64-bit columns: SQLite's INTEGER, PostgreSQL's bigint.
      if (big > 9223372036854775807n || big < -9223372036854775808n) return undefined;
      return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    }
    case 'real': {
      const number = typeof value === 'number' ? value : typeof value === 'string' && DECIMAL_RE.test(value.trim()) ? Number(value) : NaN;
      return Number.isFinite(number) ? number : undefined;
    }
    case 'numeric':
      if (typeof value === 'number') return Number.isFinite(value) ? String(value) : undefined;
      if (typeof value === 'bigint') return String(value);
      return typeof value === 'string' && DECIMAL_RE.test(value.trim()) ? value.trim() : undefined;
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 1 || value === 0) return value === 1;
      if (typeof value === 'string') {
        const text = value.trim().toLowerCase();
        if (text === 'true' || text === '1' || text === 'yes') return true;
        if (text === 'false' || text === '0' || text === 'no') return false;
      }
      return undefined;
    case 'timestamp': {
      let ms = NaN;
      if (typeof value === 'number') ms = value;
      else if (value instanceof Date) ms = value.getTime();
      else if (typeof value === 'string') ms = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Date.parse(value);
      return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms) : undefined;
    }
    case 'json':
      if (typeof value === 'string') {
        // A field holding JSON text is stored as that JSON; any other text as a JSON string.
        try {
          JSON.parse(value);
          return value;
        } catch {
          return JSON.stringify(value);
        }
      }
      if (typeof value === 'bigint') return String(value);
      try {
        return JSON.stringify(value) ?? undefined;
      } catch {
        return undefined;
      }
  }
}
