import { InvalidOptionError } from '../errors.js';
import type { Sluice } from '../sluice.js';
import { AnalyticsSink, type AnalyticsSinkOptions } from './analytics.js';
import { JsonlFileSink, type JsonlFileSinkOptions } from './jsonl-file.js';
import { PostgresSink, type PostgresSinkOptions } from './postgres.js';
import type { Sink } from './sink.js';
import { SqliteSink, type SqliteSinkOptions } from './sqlite.js';
import { StdoutSink, type StdoutSinkOptions } from './stdout.js';
import { StreamSink, type StreamSinkOptions } from './stream.js';
import { WebhookSink, type WebhookSinkOptions } from './webhook.js';

/**
 * A sink as plain data, as a YAML pipeline writes it: `type` and that sink's options, side by side.
 *
 * @example
 * { type: 'sqlite', path: 'orders.db', table: 'orders' }
 * { type: 'webhook', url: 'https://hooks.example.com/orders', secret: '${WEBHOOK_SECRET}' }
 */
export type SinkConfig =
  | ({ type: 'sqlite' } & SqliteSinkOptions)
  | ({ type: 'postgres' } & PostgresSinkOptions)
  | ({ type: 'webhook' } & WebhookSinkOptions)
  | ({ type: 'analytics' } & AnalyticsSinkOptions)
  | ({ type: 'stream' } & StreamSinkOptions)
  | ({ type: 'file' | 'jsonl' } & JsonlFileSinkOptions)
  | ({ type: 'stdout' } & StdoutSinkOptions);

export type SinkType = SinkConfig['type'];

/** The sink types `createSink` knows (`jsonl` is another name for `file`). */
export const SINK_TYPES: readonly SinkType[] = ['sqlite', 'postgres', 'webhook', 'analytics', 'stream', 'file', 'jsonl', 'stdout'];

export interface CreateSinkOptions {
  /**
   * Where the config came from, prefixed to option names in error messages.
   * @example 'pipelines.orders.sinks[0]'
   */
  at?: string;
  /** The Redis connection a `stream` sink publishes with when its config names no `url`. */
  connection?: Sluice;
}

/**
 * Builds a sink from a plain config object, checking every option now: an unknown type, an
 * unknown or misspelt option, or a bad value throws `InvalidOptionError` naming the key
 * (`Expected \`sinks[0].table\` to be …`). Nothing is opened or connected before the first write.
 */
export function createSink(config: unknown, options: CreateSinkOptions = {}): Sink {
  const at = options.at ?? '';
  const where = (name: string) => (at ? `${at}.${name}` : name);
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new InvalidOptionError(at || 'sink', config, `a sink like { type: "sqlite", table: "orders" } (types: ${SINK_TYPES.join(', ')})`);
  }
  const { type, ...rest } = config as { type?: unknown } & Record<string, unknown>;
  switch (type) {
    case 'sqlite':
      return new SqliteSink(rest as unknown as SqliteSinkOptions, at);
    case 'postgres':
      return new PostgresSink(rest as unknown as PostgresSinkOptions, at);
    case 'webhook':
      return new WebhookSink(rest as unknown as WebhookSinkOptions, at);
    case 'analytics':
      return new AnalyticsSink(rest as unknown as AnalyticsSinkOptions, at);
    case 'stream': {
      const streamOptions = rest as unknown as StreamSinkOptions;
      const connection = streamOptions.url === undefined && streamOptions.connection === undefined ? options.connection : undefined;
      return new StreamSink(connection ? { ...streamOptions, connection } : streamOptions, at);
    }
    case 'file':
    case 'jsonl':
      return new JsonlFileSink(rest as unknown as JsonlFileSinkOptions, at);
    case 'stdout':
      return new StdoutSink(rest as StdoutSinkOptions, at);
    default:
      throw new InvalidOptionError(where('type'), type, `one of ${SINK_TYPES.map((t) => `\`${t}\``).join(', ')}`);
  }
}
