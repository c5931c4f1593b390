import { ClosedError, InvalidOptionError } from '../errors.js';
import { eventJson } from './event-json.js';
import { InFlight } from './in-flight.js';
import { OptionReader } from './options.js';
import { SinkUnavailableError, type Sink, type SinkContext, type SinkEvent } from './sink.js';

/** Options of the stdout sink. */
export interface StdoutSinkOptions {
  /**
   * `json`: one JSON object per line, as the JSONL file sink writes them; `text`: one line per
   * event for people, `<stream> <id> name=value …` (json events: their data as JSON).
   * @default 'json'
   */
  format?: 'json' | 'text';
  /** Where to write instead of the process's stdout (a file stream, a socket). Not closed by the sink. */
  output?: NodeJS.WritableStream;
}

/**
 * Prints events, for trying a pipeline out and for shell pipes (`sluice run … | jq`). A write
 * resolves once its lines are handed to the output (flushed to the pipe or file), so a slow
 * reader slows the pipeline down rather than filling memory. Not idempotent.
 */
export class StdoutSink implements Sink {
  readonly name = 'stdout';
  readonly idempotent = false;
  readonly #format: 'json' | 'text';
  readonly #output: NodeJS.WritableStream;
  readonly #inFlight = new InFlight();
  #closed: Promise<void> | undefined;

  /**
   * @param options the format and the output
   * @param at where the options came from, for error messages (`pipelines.orders.sinks[0]`)
   */
  constructor(options: StdoutSinkOptions = {}, at = '') {
    const reader = new OptionReader(options, 'a stdout sink', at);
    reader.only(['format', 'output']);
    this.#format = reader.oneOf('format', ['json', 'text'], 'json');
    const output = options.output ?? process.stdout;
    if (typeof (output as { write?: unknown }).write !== 'function') throw new InvalidOptionError(reader.path('output'), output, 'a writable stream');
    this.#output = output;
  }

  write(events: readonly SinkEvent[], ctx: SinkContext): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError('The sink stdout'));
    if (ctx.signal.aborted) return Promise.reject(new SinkUnavailableError('stdout: the write was aborted before it started', { cause: ctx.signal.reason }));
    if (events.length === 0) return Promise.resolve();
    const text = events.map((event) => this.#line(event)).join('');
    return this.#inFlight.track(
      new Promise<void>((resolve, reject) => {
        this.#output.write(text, (error?: Error | null) => {
          if (error) reject(new SinkUnavailableError(`stdout: cannot write: ${error.message}`, { cause: error }));
          else resolve();
        });
      }),
    );
  }

  /** Waits for lines being written. The output stays open (it is not the sink's). */
  close(): Promise<void> {
    this.#closed ??= this.#inFlight.settled();
    return this.#closed;
  }

  #line(event: SinkEvent): string {
    if (this.#format === 'json') return `${JSON.stringify(eventJson(event))}\n`;
    const payload = event.fields
      ? Object.entries(event.fields)
          .map(([name, value]) => `${name}=${quote(value)}`)
          .join(' ')
      : JSON.stringify(event.data);
    return `${event.stream} ${event.id} ${payload}\n`;
  }
}

function quote(value: string): string {
  return value === '' || /[\s"=\\]/.test(value) ? JSON.stringify(value) : value;
}
