import { optionError } from '../pipeline/key-path.js';
import type { SluiceServer } from '../server/server.js';
import type { CodecName } from '../stream/codec.js';
import type { HttpSourceConfig, Source, SourceContext } from './source.js';
import { readSourceBase } from './source-options.js';

const NEVER = new Promise<void>(() => undefined);
const TOKEN = /^[\x21-\x7e]+$/;

/**
 * Runs Sluice's HTTP ingest server (the one `sluice serve` runs) for the pipeline: clients send
 * `POST /streams/<stream>/events` and get their answer once Redis has stored the events; the
 * pipeline reads them through its group. Closing the source closes the server gracefully
 * (requests in flight are answered first).
 */
export class HttpSource implements Source {
  readonly type = 'http' as const;
  readonly stream: string;
  readonly codec: CodecName;
  readonly finite = false;
  readonly finished = NEVER;
  readonly port: number;
  readonly host: string;
  readonly #token: string | undefined;
  #server: SluiceServer | undefined;

  constructor(config: HttpSourceConfig, at = 'source') {
    const { reader, base } = readSourceBase(config, 'an http source', at, ['port', 'host', 'token']);
    this.stream = base.stream;
    this.codec = base.codec;
    this.port = reader.integer('port', 8080, { min: 0, max: 65_535 });
    this.host = reader.string('host') ?? '127.0.0.1';
    const token = reader.raw('token');
    if (token !== undefined && (typeof token !== 'string' || !TOKEN.test(token))) {
      // The value is not repeated: it is a secret, or close to one.
      const path = reader.path('token');
      throw optionError(path, `Expected \`${path}\` to be a non-empty token of visible ASCII characters, without spaces`);
    }
    this.#token = token;
  }

  /** `http://host:port` once listening. */
  get url(): string | undefined {
    return this.#server?.url;
  }

  /** Publishes happen in the server's requests: the server does not count them. */
  get published(): number {
    return 0;
  }

  async check(): Promise<void> {}

  async start(context: SourceContext): Promise<void> {
    // Loaded here: a pipeline without an http source need not load node:http and the routes.
    const { createServer } = await import('../server/server.js');
    const server = createServer({
      sluice: context.sluice,
      port: this.port,
      host: this.host,
      ...(this.#token === undefined ? {} : { token: this.#token }),
      logger: context.logger,
    });
    await server.listen();
    this.#server = server;
    context.logger.debug({ url: server.url, stream: this.stream }, `http source: POST ${server.url}/streams/${this.stream}/events`);
  }

  async stop(): Promise<void> {
    await this.#server?.close();
  }
}
