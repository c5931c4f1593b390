import { InvalidInputError, InvalidOptionError } from '../errors.js';

/** Where in a file a problem is: 1-based line and column. */
export interface FilePosition {
  line: number;
  column: number;
}

/**
 * A pipeline file that cannot be used: bad YAML, a missing environment variable, a key with a
 * bad value. The message reads `file:line:col: key: what is wrong`, as compilers print errors,
 * so editors and terminals can jump to the place.
 */
export class PipelineConfigError extends InvalidInputError {
  /** The file as it was named. */
  readonly file: string;
  /** Where the problem is, when known. */
  readonly position: FilePosition | undefined;
  /** The key path (`steps[1].route[0].when`), when the problem is a key's. */
  readonly key: string | undefined;
  /** What is wrong, without the place. */
  readonly detail: string;

  constructor(file: string, detail: string, options: { position?: FilePosition; key?: string; cause?: unknown } = {}) {
    const where = options.position ? `${file}:${options.position.line}:${options.position.column}` : file;
    super('ERR_PIPELINE_CONFIG', `${where}: ${options.key ? `${options.key}: ` : ''}${detail}`, { cause: options.cause });
    this.file = file;
    this.position = options.position;
    this.key = options.key;
    this.detail = detail;
  }
}

/**
 * What an option error says, without repeating the key the location already names:
 * "Expected `sinks[0].table` to be a table name…" becomes "expected a table name…".
 */
export function optionDetail(error: InvalidOptionError): string {
  const expected = `Expected \`${error.option}\` to be `;
  if (error.message.startsWith(expected)) {
    const rest = error.message.slice(expected.length);
    // "to be absent: a sqlite sink has no such option (did you mean `table`?), got `x`"
    if (rest.startsWith('absent: ')) {
      const got = rest.lastIndexOf(', got ');
      return `${rest.slice('absent: '.length, got < 0 ? undefined : got)}`;
    }
    return `expected ${rest}`;
  }
  const prefixed = `\`${error.option}\`: `;
  if (error.message.startsWith(prefixed)) return error.message.slice(prefixed.length);
  return error.message;
}
