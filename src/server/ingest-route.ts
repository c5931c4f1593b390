import { formatTraceparent, isTracestate, parseTraceparent } from '../observe/traceparent.js';
import { codecByName } from '../stream/codec.js';
import type { PublishOnceResult, PublishOptions } from '../stream/stream.js';
import { readBody } from './body.js';
import { checkEvents } from './check-events.js';
import { toHttpError } from './error-status.js';
import { HttpError } from './http-error.js';
import type { ResolvedLimits } from './limits.js';
import { bodyFormat, parseEvents } from './parse-events.js';
import type { Route } from './router.js';
import type { StreamCache } from './stream-cache.js';

export interface IngestDeps {
  streams: StreamCache;
  limits: ResolvedLimits;
}

const MAX_IDEMPOTENCY_KEY = 256;

/**
 * `POST /streams/:stream/events`: one event (a JSON object), many (a JSON array, or NDJSON with
 * `Content-Type: application/x-ndjson`), answered `201 {"ids":[…]}` in input order.
 *
 * Nothing accepted is lost: the answer comes only once Redis has stored every event (each publish
 * resolved). Every event is checked before any is published, so a bad one refuses the request
 * whole. When publishing itself fails for some events (Redis down, backpressure), the error answer
 * says which were stored: `ids` holds each event's ID, or null for one that was not confirmed.
 *
 * `?codec=json` stores each event as JSON in one `data` field (nested data); the default `fields`
 * codec stores flat fields. `Idempotency-Key: K` publishes at most once per key within the
 * stream's window: the key itself for a single event, `K:0`, `K:1`… for the events of a batch,
 * so a retried request stores nothing twice, and the answer's `duplicates` says how many events
 * were stored already. A valid W3C `traceparent` header (and its `tracestate`) is stored with every
 * event of the request (`$tp`, `$ts`), so consumers' handler spans join the client's trace; an
 * invalid one is ignored.
 */
export function ingestRoute(deps: IngestDeps): Route {
  return {
    method: 'POST',
    path: '/streams/:stream/events',
    handler: async (ctx) => {
      const name = ctx.params.stream as string;
      const codec = codecByName(ctx.url.searchParams.get('codec') ?? undefined);
      const stream = deps.streams.get(name, codec.name);
      const idempotencyKey = idempotencyKeyOf(ctx.req.headers['idempotency-key']);
      const traceparent = traceparentOf(ctx.req.headers.traceparent);
      const tracestate = traceparent === undefined ? undefined : tracestateOf(ctx.req.headers.tracestate);
      const format = bodyFormat(ctx.req.headers['content-type']);
      ctx.annotate({ stream: name });
      const text = await readBody(ctx.req, ctx.res, { maxBytes: deps.limits.maxBodyBytes, expectContinue: ctx.expectContinue });
      const { events, lines } = parseEvents(text, format, deps.limits.maxEvents);
      checkEvents(events, stream.codec, deps.limits, lines);
      ctx.annotate({ events: events.length });

      const single = events.length === 1;
      // One options object for the whole request when only the trace is shared: without the
      // header (and without Idempotency-Key) the events are published with no options at all.
      const shared: PublishOptions | undefined = traceparent === undefined ? undefined : tracestate === undefined ? { traceparent } : { traceparent, tracestate };
      // With Idempotency-Key, each publish also says whether its key was stored already.
      const settled = await Promise.allSettled(
        events.map((event, index): Promise<string | PublishOnceResult> => {
          if (idempotencyKey === undefined) return stream.publish(event, shared);
          return stream.publishOnce(event, single ? idempotencyKey : `${idempotencyKey}:${index}`, shared);
        }),
      );
      const ids: Array<string | null> = [];
      let failure: unknown;
      let stored = 0;
      let duplicates = 0;
      for (const result of settled) {
        if (result.status === 'fulfilled') {
          const value = result.value;
          if (typeof value === 'string') ids.push(value);
          else {
            ids.push(value.id);
            if (value.duplicate) duplicates++;
          }
          stored++;
        } else {
          ids.push(null);
          failure ??= result.reason;
        }
      }
      if (failure === undefined) {
        ctx.json(201, idempotencyKey === undefined ? { ids } : { ids, duplicates });
        return;
      }
      throw partialFailure(failure, stored, ids);
    },
  };
}

function idempotencyKeyOf(header: string | string[] | undefined): string | undefined {
  if (header === undefined) return undefined;
  const key = Array.isArray(header) ? header.join(',') : header.trim();
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY) {
    throw new HttpError(400, 'ERR_INVALID_OPTION', `Expected the Idempotency-Key header to hold 1 to ${MAX_IDEMPOTENCY_KEY} characters, got ${key.length}`);
  }
  return key;
}

/**
 * The request's trace, as the events store it (`$tp`), or undefined without a valid one. The W3C
 * Trace Context spec asks a receiver to ignore an invalid `traceparent` (uppercase hex, all-zero
 * IDs, version `ff`, wrong length…) and go on as if there were none, so a bad header never fails
 * the request: its events are stored without `$tp`. Node joins repeated headers with `, `, which
 * no valid traceparent contains, so two headers are ignored too. A later version's extra fields
 * are dropped and the parent stored as version `00`, the one Sluice reads and writes.
 */
function traceparentOf(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const parent = parseTraceparent(header);
  return parent === undefined ? undefined : formatTraceparent(parent);
}

/**
 * The `tracestate` that goes with a valid traceparent, or undefined. Repeated headers arrive
 * joined with `, `, which is how the spec combines them. One longer than 512 characters or with
 * characters outside printable ASCII is dropped, as the spec allows a receiver to: the trace still
 * links through the traceparent.
 */
function tracestateOf(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const text = header.trim();
  return isTracestate(text) ? text : undefined;
}

/**
 * The answer when some publishes failed: the status and code of the first failure, and which
 * events were stored. An event with a null ID was not confirmed: it was refused (backpressure,
 * out of memory) or Redis could not be reached; when the connection dropped or Redis answered
 * too late, it may still have been written, which is why retries should carry an Idempotency-Key.
 */
function partialFailure(failure: unknown, stored: number, ids: Array<string | null>): HttpError {
  const base = toHttpError(failure);
  const total = ids.length;
  const summary =
    stored === 0
      ? `Redis confirmed ${total === 1 ? 'no event' : `none of the ${total} events`}`
      : `Redis confirmed ${stored} of the ${total} events (ids; null: not confirmed)`;
  return new HttpError(base.status, base.code, `${base.message}; ${summary}`, {
    headers: base.headers,
    details: { ...base.details, stored, ids },
    cause: failure,
  });
}
