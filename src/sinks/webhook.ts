import { backoffDelay, checkBackoff, type Backoff, type BackoffOptions } from '../consumer/backoff.js';
import { ClosedError, InvalidOptionError } from '../errors.js';
import { eventJson } from './event-json.js';
import { ConcurrencyLimit, InFlight } from './in-flight.js';
import { OptionReader, sleep } from './options.js';
import { SinkRejectedError, SinkUnavailableError, type Sink, type SinkContext, type SinkEvent } from './sink.js';
import { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from './webhook-signature.js';

/** Options of the webhook sink. */
export interface WebhookSinkOptions {
  /** Where events are POSTed (`http://` or `https://`). */
  url: string;
  /**
   * The shared secret of the HMAC-SHA256 signature (`X-Sluice-Signature`, see
   * `verifyWebhookSignature`). A list while rotating secrets: the request carries one signature
   * per secret. Without it, requests are not signed.
   */
  secret?: string | readonly string[];
  /**
   * `batch`: one request per batch, body `{ "events": [ … ] }`; `event`: one request per event,
   * the body being the event.
   * @default 'batch'
   */
  mode?: 'batch' | 'event';
  /**
   * Most events in one request (mode `batch`); a larger batch is sent as several requests.
   * @default 100
   */
  maxEventsPerRequest?: number;
  /** More request headers (an `Authorization` for the receiver…). */
  headers?: Record<string, string>;
  /**
   * Time one request may take, body included; then it counts as failed and is retried.
   * @default '10s'
   */
  timeout?: number | string;
  /**
   * Retries of a request after a 5xx, a 408, a 429 or a network error (or a timeout), with
   * `backoff` between them; then the write fails with a retryable error (the pipeline retries
   * the batch later, and dead-letters it after its `maxDeliveries`).
   * @default 3
   */
  retries?: number;
  /** Delays between retries. A 429's `Retry-After` is honoured up to `backoff.max`. @default { initial: '200ms', max: '5s' } */
  backoff?: BackoffOptions | number;
  /**
   * Most requests in flight at once, across all the sink's writes.
   * @default 4
   */
  concurrency?: number;
}

const OPTION_NAMES = ['url', 'secret', 'mode', 'maxEventsPerRequest', 'headers', 'timeout', 'retries', 'backoff', 'concurrency'] as const;

type Outcome = { ok: true } | { ok: false; rejected: boolean; events: readonly SinkEvent[]; message: string; cause?: unknown };

/**
 * POSTs events as JSON to an HTTP endpoint.
 *
 * - Each request is signed: `X-Sluice-Timestamp` and `X-Sluice-Signature: sha256=<hex>` (see
 *   `webhook-signature.ts` for the scheme), and carries `Idempotency-Key`: the event's ID
 *   (mode `event`) or the IDs of the request's events, comma-separated (mode `batch`).
 * - 2xx: stored. 5xx, 408, 429, timeouts and network errors: retried with backoff, then a
 *   retryable `SinkUnavailableError`. Any other 4xx (and 3xx): `SinkRejectedError`, the events go
 *   to the dead-letter stream; in mode `event`, only the refused events are named in `eventIds`.
 *
 * Not idempotent by itself: a batch retried after a timeout may reach the receiver twice.
 * Receivers dedupe on `Idempotency-Key` or on each event's `stream` and `id`.
 *
 * @example
 * new WebhookSink({ url: 'https://hooks.example.com/orders', secret: process.env.WEBHOOK_SECRET })
 */
export class WebhookSink implements Sink {
  readonly name: string;
  readonly idempotent = false;
  readonly url: string;
  readonly #secret: string[] | undefined;
  readonly #mode: 'batch' | 'event';
  readonly #perRequest: number;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #backoff: Backoff;
  readonly #limit: ConcurrencyLimit;
  readonly #inFlight = new InFlight();
  #closed: Promise<void> | undefined;

  /**
   * @param options where and how to POST
   * @param at where the options came from, for error messages (`pipelines.orders.sinks[0]`)
   */
  constructor(options: WebhookSinkOptions, at = '') {
    const reader = new OptionReader(options, 'a webhook sink', at);
    reader.only(OPTION_NAMES);
    this.url = checkUrl(reader.string('url', { required: true }), reader.path('url'));
    this.name = `webhook:${new URL(this.url).host}`;
    this.#secret = reader.stringList('secret', 'a non-empty string, or a list of them while rotating secrets');
    if (this.#secret?.length === 0) throw new InvalidOptionError(reader.path('secret'), options.secret, 'at least one secret');
    this.#mode = reader.oneOf('mode', ['batch', 'event'], 'batch');
    this.#perRequest = reader.integer('maxEventsPerRequest', 100, { min: 1, max: 100_000 });
    this.#headers = checkHeaders(reader.record('headers', 'an object of header names and string values'), reader.path('headers'));
    this.#timeoutMs = reader.duration('timeout', 10_000, { min: 1 });
    this.#retries = reader.integer('retries', 3, { min: 0, max: 100 });
    this.#backoff = readBackoff(reader);
    this.#limit = new ConcurrencyLimit(reader.integer('concurrency', 4, { min: 1, max: 1000 }));
  }

  write(events: readonly SinkEvent[], ctx: SinkContext): Promise<void> {
    if (this.#closed) return Promise.reject(new ClosedError(`The sink ${this.name}`));
    return this.#inFlight.track(this.#write(events, ctx));
  }

  /** Waits for the requests in flight (with their retries), then refuses further writes. */
  close(): Promise<void> {
    this.#closed ??= this.#inFlight.settled();
    return this.#closed;
  }

  async #write(events: readonly SinkEvent[], ctx: SinkContext): Promise<void> {
    if (ctx.signal.aborted) throw new SinkUnavailableError(`${this.name}: the write was aborted before it started`, { cause: ctx.signal.reason });
    if (events.length === 0) return;
    const requests: SinkEvent[][] = [];
    if (this.#mode === 'event') for (const event of events) requests.push([event]);
    else for (let i = 0; i < events.length; i += this.#perRequest) requests.push(events.slice(i, i + this.#perRequest));
    const outcomes = await Promise.all(requests.map((batch) => this.#limit.run(() => this.#deliver(batch, ctx.signal))));
    const failures = outcomes.filter((o): o is Exclude<Outcome, { ok: true }> => !o.ok);
    const failed = failures.filter((o) => !o.rejected);
    if (failed.length > 0) {
      const first = failed[0] as (typeof failed)[number];
      throw new SinkUnavailableError(`${this.name}: ${failed.length} of ${requests.length} requests failed: ${first.message}`, { cause: first.cause });
    }
    if (failures.length > 0) {
      const first = failures[0] as (typeof failures)[number];
      const eventIds = failures.flatMap((o) => o.events.map((e) => e.id));
      throw new SinkRejectedError(`${this.name}: the receiver refused ${eventIds.length} of ${events.length} events: ${first.message}`, { eventIds });
    }
  }

  /** Sends one request, with its retries. Never throws: says what happened. */
  async #deliver(events: readonly SinkEvent[], signal: AbortSignal): Promise<Outcome> {
    const body = this.#mode === 'event' ? JSON.stringify(eventJson(events[0] as SinkEvent)) : JSON.stringify({ events: events.map(eventJson) });
    const idempotencyKey = events.map((e) => e.id).join(',');
    let last: Outcome = { ok: false, rejected: false, events, message: 'not sent' };
    for (let attempt = 1; attempt <= this.#retries + 1; attempt++) {
      if (attempt > 1) {
        const retryAfterMs = (last as { retryAfterMs?: number }).retryAfterMs ?? 0;
        const delay = Math.max(backoffDelay(this.#backoff, attempt - 1), Math.min(retryAfterMs, this.#backoff.maxMs));
        try {
          await sleep(delay, signal);
        } catch {
          return { ok: false, rejected: false, events, message: `aborted while waiting to retry (${last.ok ? '' : last.message})`, cause: signal.reason };
        }
      }
      last = await this.#attempt(events, body, idempotencyKey, attempt, signal);
      if (last.ok || last.rejected || signal.aborted) return last;
    }
    return last;
  }

  async #attempt(events: readonly SinkEvent[], body: string, idempotencyKey: string, attempt: number, signal: AbortSignal): Promise<Outcome & { retryAfterMs?: number }> {
    const timestamp = Math.floor(Date.now() / 1000);
    const headers: Record<string, string> = {
      ...this.#headers,
      'content-type': 'application/json',
      'user-agent': 'sluice-webhook',
      'idempotency-key': idempotencyKey,
      'x-sluice-attempt': String(attempt),
    };
    if (this.#secret) {
      headers[TIMESTAMP_HEADER.toLowerCase()] = String(timestamp);
      headers[SIGNATURE_HEADER.toLowerCase()] = signWebhook(this.#secret, timestamp, body);
    }
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await fetch(this.url, { method: 'POST', body, headers, redirect: 'manual', signal: AbortSignal.any([signal, timeout]) });
      // Read the whole answer (bounded by the same deadline), so the connection is reused.
      text = await response.text();
    } catch (error) {
      const why = signal.aborted ? 'the write was aborted' : timeout.aborted ? `no answer within ${this.#timeoutMs} ms` : describeNetworkError(error);
      return { ok: false, rejected: false, events, message: `POST ${this.url}: ${why}`, cause: error };
    }
    const status = response.status;
    if (status >= 200 && status < 300) return { ok: true };
    const detail = `POST ${this.url} answered ${status}${text ? `: ${text.slice(0, 200)}` : ''}`;
    if (status >= 500 || status === 408 || status === 429) {
      return { ok: false, rejected: false, events, message: detail, retryAfterMs: retryAfterMs(response.headers.get('retry-after')) };
    }
    return { ok: false, rejected: true, events, message: detail };
  }
}

/** The retry backoff, checked here so that errors carry the option's full path. */
function readBackoff(reader: OptionReader): Backoff {
  const raw = reader.raw('backoff');
  const options = typeof raw === 'number' ? { initial: raw } : raw;
  if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
    throw new InvalidOptionError(reader.path('backoff'), raw, 'an object like { initial: "200ms", max: "5s" } or a number of ms');
  }
  const nested = new OptionReader(options ?? {}, 'a backoff', reader.path('backoff'));
  nested.only(['initial', 'max', 'factor', 'jitter']);
  const initial = nested.duration('initial', 200);
  const max = nested.duration('max', Math.max(5_000, initial));
  if (max < initial) throw new InvalidOptionError(nested.path('max'), nested.raw('max'), `at least backoff.initial (${initial} ms)`);
  return checkBackoff({ initial, max, factor: nested.number('factor', 2, { min: 1, max: 100 }), jitter: nested.number('jitter', 0.2, { min: 0, max: 1 }) });
}

function checkUrl(value: string, option: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidOptionError(option, value, 'an http:// or https:// URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidOptionError(option, value, 'an http:// or https:// URL');
  return url.toString();
}

const TOKEN_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function checkHeaders(headers: Record<string, unknown> | undefined, option: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (!TOKEN_RE.test(name)) throw new InvalidOptionError(`${option}.${name}`, name, 'a valid HTTP header name');
    if (typeof value !== 'string' || /[\r\n]/.test(value)) throw new InvalidOptionError(`${option}.${name}`, value, 'a string without line breaks');
    out[name.toLowerCase()] = value;
  }
  return out;
}

/** `Retry-After` as ms: seconds or an HTTP date. */
function retryAfterMs(value: string | null): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } } | null)?.cause;
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  return error instanceof Error ? error.message : String(error);
}
