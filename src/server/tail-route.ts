import type { Sluice } from '../sluice.js';
import type { FieldsEvent } from '../stream/event.js';
import { startAfter } from '../stream/reader.js';
import { isStreamId } from '../stream/stream-id.js';
import { parseAgo } from '../stream/time.js';
import { toHttpError } from './error-status.js';
import { HttpError } from './http-error.js';
import type { Route } from './router.js';
import type { SseConnections } from './sse.js';

export interface TailRouteDeps {
  sluice: Sluice;
  sse: SseConnections;
  /** Most live tails open at once (each holds a Redis connection of its own). */
  maxTails: number;
}

/** Each XREAD waits this long; an aborted tail ends at once all the same (its connection is destroyed). */
const BLOCK_MS = 5000;
/** Entries per XREAD. */
const BATCH = 100;

/**
 * `GET /api/streams/:stream/tail?field=status&value=paid`: the events appended from now on, as
 * server-sent events: first `event: ready` (data `{"stream","from","field","value"}`), then one
 * `event: entry` per event (data `{"id","time","fields","meta"?}`), optionally only those whose
 * field `field` equals `value` (or, with `field` alone, that have it).
 *
 * Every event carries its stream ID as the SSE `id` (`ready` carries the position it reads after),
 * so a client that reconnects with `Last-Event-ID` (an EventSource does so by itself) goes on
 * right after the last event it received: nothing missed, nothing twice. `?from=0|ID|ISO-time`
 * or `?since=15m` replay history first, then follow.
 *
 * Each tail reads on a blocking connection of its own (a waiting XREAD serves nothing else), so
 * their number is bounded by `maxTails`: past it, 429. A client that goes away ends its read and
 * closes its connection. A client slower than the stream is not buffered for: the read waits
 * until the client has taken what was sent.
 */
export function tailRoute(deps: TailRouteDeps): Route {
  let open = 0;
  return {
    method: 'GET',
    path: '/api/streams/:stream/tail',
    handler: async (ctx) => {
      const name = ctx.params.stream as string;
      const field = nonEmpty(ctx.url.searchParams.get('field'));
      const value = ctx.url.searchParams.get('value');
      if (value !== null && field === undefined) {
        throw new HttpError(400, 'ERR_INVALID_OPTION', `Expected \`field\` with \`value\` (which field should equal \`${value}\`?), got no field`);
      }
      const position = requestedStart(ctx.req.headers['last-event-id'], ctx.url.searchParams);
      const stream = deps.sluice.stream(name);
      ctx.annotate({ stream: name });
      if (open >= deps.maxTails) {
        throw new HttpError(429, 'ERR_TOO_MANY_TAILS', `${deps.maxTails} live tails are open on this server (the most it serves at once): close one, or try again later`, {
          headers: { 'Retry-After': '5' },
          details: { max: deps.maxTails },
        });
      }
      // `$` resolved here, before answering: the `ready` event then says from where the tail
      // reads, and an event published after it arrived is certain to be sent.
      const from = position ?? (await lastId(deps.sluice, name));
      open++;
      const sse = deps.sse.open(ctx);
      try {
        sse.send('ready', JSON.stringify({ stream: name, from, field: field ?? null, value }), from);
        for await (const event of stream.read({ from, block: BLOCK_MS, count: BATCH, signal: sse.signal, onInvalid: 'skip' })) {
          if (field !== undefined && !matches(event, field, value)) continue;
          sse.send('entry', JSON.stringify(event.meta === undefined ? { id: event.id, time: event.time, fields: event.fields } : { id: event.id, time: event.time, fields: event.fields, meta: event.meta }), event.id);
          if (sse.congested) await sse.drained();
        }
      } catch (error) {
        // The answer has begun: the error can only be told as an event, then the stream ends.
        const answer = toHttpError(error);
        ctx.log.warn({ err: error, stream: name }, `tail ended: ${answer.message}`);
        sse.send('error', JSON.stringify(answer.toJSON()));
      } finally {
        open--;
        sse.end();
      }
    },
  };
}

/**
 * The ID the tail reads after, as the request asks: after `Last-Event-ID` (a reconnecting client
 * says what it got last; that wins over the query, which an EventSource sends again unchanged),
 * else `from` or `since`; undefined for `$` (the newest entry when the tail starts).
 */
function requestedStart(lastEventId: string | string[] | undefined, query: URLSearchParams): string | undefined {
  if (typeof lastEventId === 'string' && lastEventId !== '') {
    if (!isStreamId(lastEventId)) {
      throw new HttpError(400, 'ERR_INVALID_STREAM_ID', `Expected the Last-Event-ID header to be a stream ID like 1692632086370-0 (the id of the last event received), got \`${lastEventId}\``);
    }
    return lastEventId;
  }
  const from = nonEmpty(query.get('from'));
  const since = nonEmpty(query.get('since'));
  if (from !== undefined && since !== undefined) {
    throw new HttpError(400, 'ERR_INVALID_OPTION', `Expected \`from\` or \`since\`, not both (got from=${from} and since=${since})`);
  }
  if (since !== undefined) return startAfter(new Date(parseAgo(since, 'since')));
  return from === undefined ? undefined : startAfter(from);
}

/** The stream's newest entry ID; `0-0` when it is empty or missing (every event comes after it). */
async function lastId(sluice: Sluice, name: string): Promise<string> {
  const newest = await sluice.connection.command<Array<[string, unknown]>>(['XREVRANGE', name, '+', '-', 'COUNT', '1']);
  return newest[0]?.[0] ?? '0-0';
}

function nonEmpty(value: string | null): string | undefined {
  return value === null || value === '' ? undefined : value;
}

function matches(event: FieldsEvent, field: string, value: string | null): boolean {
  const actual = Object.hasOwn(event.fields, field) ? event.fields[field] : undefined;
  return value === null ? actual !== undefined : actual === value;
}
