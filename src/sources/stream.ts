import { InvalidInputError } from '../errors.js';
import { optionError } from '../pipeline/key-path.js';
import type { CodecName } from '../stream/codec.js';
import { startAfter, type ReadFrom } from '../stream/reader.js';
import type { Source, StreamSourceConfig } from './source.js';
import { readSourceBase } from './source-options.js';

const NEVER = new Promise<void>(() => undefined);

/**
 * Reads an existing stream through the pipeline's group. It publishes nothing: starting and
 * stopping it are no-ops, the pipeline's worker does the reading.
 */
export class StreamSource implements Source {
  readonly type = 'stream' as const;
  readonly stream: string;
  readonly codec: CodecName;
  readonly finite = false;
  readonly published = 0;
  readonly url = undefined;
  readonly finished = NEVER;
  /** The group, when the config names one. */
  readonly group: string | undefined;
  /** Where a new group starts, when the config says. */
  readonly startFrom: ReadFrom | undefined;

  constructor(options: StreamSourceConfig, at = 'source') {
    const { reader, base } = readSourceBase(options, 'a stream source', at, ['group', 'startFrom']);
    this.stream = base.stream;
    this.codec = base.codec;
    this.group = reader.string('group');
    // eslint-disable-next-line no-control-regex
    if (this.group !== undefined && /[\s\u0000-\u001f\u007f]/.test(this.group)) {
      throw optionError(reader.path('group'), `Expected \`${reader.path('group')}\` to be a group name without spaces, like billing, got \`${this.group}\``, this.group);
    }
    const startFrom = reader.raw('startFrom');
    if (startFrom !== undefined) {
      try {
        startAfter(startFrom as ReadFrom);
      } catch (error) {
        if (!(error instanceof InvalidInputError)) throw error;
        const path = reader.path('startFrom');
        throw optionError(path, `Expected \`${path}\` to be \`0\` (the whole stream), \`$\` (new events only), a stream ID like 1692632086370-0 or an ISO time, got ${JSON.stringify(startFrom)}`, startFrom);
      }
      this.startFrom = startFrom as ReadFrom;
    }
  }

  async check(): Promise<void> {}

  async start(): Promise<void> {}

  async stop(): Promise<void> {}
}
