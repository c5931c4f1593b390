import { InvalidOptionError } from '../errors.js';
import { GeneratorSource } from './generator.js';
import { HttpSource } from './http.js';
import { JsonlSource } from './jsonl.js';
import { SOURCE_TYPES, type FileSourceConfig, type GeneratorSourceConfig, type HttpSourceConfig, type Source, type StdinSourceConfig, type StreamSourceConfig } from './source.js';
import { StreamSource } from './stream.js';

export interface CreateSourceOptions {
  /** Where the config came from, prefixed to option names in errors. @default 'source' */
  at?: string;
  /** The input of a `stdin` source. @default process.stdin */
  input?: NodeJS.ReadableStream;
}

/**
 * Builds a source from its config, checking every option now (an unknown type or option, a bad
 * value: `InvalidOptionError` naming the key). Nothing is opened before `start()`.
 */
export function createSource(config: unknown, options: CreateSourceOptions = {}): Source {
  const at = options.at ?? 'source';
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new InvalidOptionError(at, config, `a source like { type: "stream", stream: "events:orders" } (types: ${SOURCE_TYPES.join(', ')})`);
  }
  const type = (config as { type?: unknown }).type;
  switch (type) {
    case 'stream':
      return new StreamSource(config as StreamSourceConfig, at);
    case 'http':
      return new HttpSource(config as HttpSourceConfig, at);
    case 'file':
    case 'stdin':
      return new JsonlSource(config as FileSourceConfig | StdinSourceConfig, at, { input: options.input });
    case 'generator':
      return new GeneratorSource(config as GeneratorSourceConfig, at);
    default:
      throw new InvalidOptionError(`${at}.type`, type, `one of ${SOURCE_TYPES.map((t) => `\`${t}\``).join(', ')}`);
  }
}
