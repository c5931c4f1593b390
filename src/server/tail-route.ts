import type { Sluice } from '../sluice.js';
import type { FieldsEvent } from '../stream/event.js';
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
      const from = await lastId(deps.sluice, name);
      open++;
      const sse = deps.sse.open(ctx);
      try {
        sse.send('ready', JSON.stringify({ stream: name, from, field: field ?? null, value }));
        for await (const event of stream.read({ from, block: BLOCK_MS, count: BATCH, signal: sse.signal, onInvalid: 'skip' })) {
          if (field !== undefined && !matches(event, field, value)) continue;
          sse.send('entry', JSON.stringify(event.meta === undefined ? { id: event.id, time: event.time, fields: event.fields } : { id: event.id, time: event.time, fields: event.fields, meta: event.meta }));
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
