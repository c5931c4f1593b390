import { InvalidOptionError } from '../errors.js';
import type { CodecName } from '../stream/codec.js';
import type { Stream, StreamOptions } from '../stream/stream.js';
import type { Sluice } from '../sluice.js';

/** The stream options the server applies to every stream it writes (the codec comes per request). */
export type ServerStreamOptions = Pick<StreamOptions, 'retention' | 'durability' | 'backpressure' | 'idempotency'>;

/**
 * The `Stream` objects of the streams written through the server, most recently used kept. A
 * stream keeps state worth reusing across requests (the backpressure reading, cached for a few
 * hundred ms, and the retention schedule), so it is not rebuilt per request; the bound keeps a
 * client posting to ever new names from growing memory.
 */
export class StreamCache {
  readonly #streams = new Map<string, Stream<unknown, unknown>>();

  constructor(
    private readonly sluice: Sluice,
    private readonly options: ServerStreamOptions,
    private readonly max = 1000,
  ) {
    if (options === null || typeof options !== 'object') throw new InvalidOptionError('stream', options, 'an object of stream options like { backpressure: { maxLag: 10000 } }');
    // The options are checked when a Stream is built (no I/O): build one now, so a bad option
    // fails when the server is created rather than on its first request.
    sluice.stream('sluice:server', { ...options });
  }

  /** The stream; throws `InvalidStreamNameError` for a name the library refuses. */
  get(name: string, codec: CodecName): Stream<unknown, unknown> {
    const key = `${codec}\u0000${name}`;
    let stream = this.#streams.get(key);
    if (stream) {
      this.#streams.delete(key);
    } else {
      stream = this.sluice.stream<unknown, unknown>(name, { ...this.options, codec });
      if (this.#streams.size >= this.max) this.#streams.delete(this.#streams.keys().next().value as string);
    }
    this.#streams.set(key, stream);
    return stream;
  }
}
