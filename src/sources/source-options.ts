import { InvalidInputError } from '../errors.js';
import { optionError } from '../pipeline/key-path.js';
import { OptionReader } from '../sinks/options.js';
import type { CodecName } from '../stream/codec.js';
import { assertStreamName } from '../stream/stream-name.js';

/** The options every source has, checked. */
export interface SourceBaseOptions {
  stream: string;
  codec: CodecName;
}

/** Option names every source accepts besides its own. */
export const BASE_OPTION_NAMES = ['type', 'stream', 'codec'] as const;

/**
 * Reads `stream` and `codec`, refusing options the source does not have (`own` lists its own).
 * Errors name the key by its full path (`source.stream`).
 */
export function readSourceBase(options: unknown, what: string, at: string, own: readonly string[]): { reader: OptionReader; base: SourceBaseOptions } {
  const reader = new OptionReader(options, what, at);
  reader.only([...BASE_OPTION_NAMES, ...own]);
  const stream = streamNameOption(reader, 'stream');
  const codec = reader.oneOf('codec', ['fields', 'json'], 'fields');
  return { reader, base: { stream, codec } };
}

/** A stream name option, with the stream-name rules' message under the option's path. */
export function streamNameOption(reader: OptionReader, name: string): string {
  const value = reader.string(name, { required: true });
  try {
    return assertStreamName(value);
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    throw optionError(reader.path(name), `\`${reader.path(name)}\`: ${error.message}`, value);
  }
}
