import type { DeadLetter, DeadLetterQueue } from '../consumer/dead-letter-queue.js';
import type { Sluice } from '../sluice.js';
import { isStreamId } from '../stream/stream-id.js';
import { HttpError } from './http-error.js';
import { readJsonObject, requireConfirm } from './json-body.js';
import type { RequestContext } from './respond.js';
import type { Route } from './router.js';

export interface DeadLetterRoutesDeps {
  sluice: Sluice;
}

/** Dead letters per page when `count` is not given, and the most one page may hold. */
const DEFAULT_COUNT = 50;
const MAX_COUNT = 1000;
/** Most IDs one redrive request may name. */
const MAX_IDS = 10_000;
/** A body of 10,000 IDs is about 250 KB. */
const MAX_BODY_BYTES = 512 * 1024;

/** A page of dead letters: `GET /api/streams/:stream/dead-letters`. */
export interface DeadLetterPage {
  stream: string;
  /** The dead-letter stream's key. */
  key: string;
  /** Entries in the dead-letter stream. */
  size: number;
  deadLetters: DeadLetter[];
  /** Pass as `after` for the next page; null on the last one. */
  next: string | null;
}

/**
 * The dead-letter browser's API, over the stream's `DeadLetterQueue` (`{stream}:dlq`):
 *
 * - `GET /api/streams/:stream/dead-letters?count=50&after=ID`: a page, oldest first.
 * - `POST /api/streams/:stream/dead-letters/redrive` `{"confirm":true,"ids":[…]}` or
 *   `{"confirm":true,"all":true}`: back to the stream as new events → `{"redriven":N,"ids":{dlqId:newId}}`.
 * - `POST /api/streams/:stream/dead-letters/purge` `{"confirm":true}`: deletes them → `{"purged":N}`.
 *
 * Both commands refuse without `"confirm": true` (400 `ERR_CONFIRMATION_REQUIRED`).
 */
export function deadLetterRoutes(deps: DeadLetterRoutesDeps): Route[] {
  const queue = (ctx: RequestContext): DeadLetterQueue => {
    const name = ctx.params.stream as string;
    ctx.annotate({ stream: name });
    return deps.sluice.stream(name).deadLetters();
  };
  return [
    {
      method: 'GET',
      path: '/api/streams/:stream/dead-letters',
      handler: async (ctx) => {
        const dlq = queue(ctx);
        const count = countParam(ctx.url.searchParams.get('count'));
        const after = afterParam(ctx.url.searchParams.get('after'));
        // `from` is inclusive: one more is asked for, and the entry `after` itself skipped.
        const [size, listed] = await Promise.all([dlq.size(), dlq.list(after === undefined ? { count: count + 1 } : { count: count + 2, from: after })]);
        const rest = after === undefined ? listed : listed.filter((letter) => letter.id !== after);
        const deadLetters = rest.slice(0, count);
        const next = rest.length > count ? (deadLetters[deadLetters.length - 1] as DeadLetter).id : null;
        const page: DeadLetterPage = { stream: dlq.stream, key: dlq.key, size, deadLetters, next };
        ctx.json(200, page);
      },
    },
    {
      method: 'POST',
      path: '/api/streams/:stream/dead-letters/redrive',
      handler: async (ctx) => {
        const dlq = queue(ctx);
        const body = await readJsonObject(ctx, MAX_BODY_BYTES);
        requireConfirm(body, 'redrive dead letters');
        const target = redriveTarget(body);
        const moved = await dlq.redrive(target);
        ctx.annotate({ redriven: moved.size });
        ctx.json(200, { redriven: moved.size, ids: Object.fromEntries(moved) });
      },
    },
    {
      method: 'POST',
      path: '/api/streams/:stream/dead-letters/purge',
      handler: async (ctx) => {
        const dlq = queue(ctx);
        const body = await readJsonObject(ctx, MAX_BODY_BYTES);
        requireConfirm(body, 'purge the dead letters');
        const purged = await dlq.purge();
        ctx.annotate({ purged });
        ctx.json(200, { purged });
      },
    },
  ];
}

function countParam(value: string | null): number {
  if (value === null) return DEFAULT_COUNT;
  const n = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > MAX_COUNT) {
    throw new HttpError(400, 'ERR_INVALID_OPTION', `Expected \`count\` to be a whole number from 1 to ${MAX_COUNT}, got \`${value}\``);
  }
  return n;
}

function afterParam(value: string | null): string | undefined {
  if (value === null || value === '') return undefined;
  if (!isStreamId(value)) throw new HttpError(400, 'ERR_INVALID_STREAM_ID', `Expected \`after\` to be a dead-letter ID like 1692632086370-0, got \`${value}\``);
  return value;
}

function redriveTarget(body: Record<string, unknown>): { ids: string[] } | { all: true } {
  const { ids, all } = body;
  if (all === true && ids === undefined) return { all: true };
  if (all !== undefined && all !== false) {
    throw new HttpError(400, 'ERR_INVALID_BODY', `Expected either "ids": [...] or "all": true, got ${JSON.stringify({ ids, all })}`);
  }
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > MAX_IDS || !ids.every(isStreamId)) {
    const got = Array.isArray(ids) ? (ids.length === 0 ? 'an empty array' : ids.length > MAX_IDS ? `${ids.length} IDs` : JSON.stringify(ids.find((id) => !isStreamId(id)))) : JSON.stringify(ids ?? null);
    throw new HttpError(400, 'ERR_INVALID_BODY', `Expected "ids" to be 1 to ${MAX_IDS} dead-letter IDs like "1692632086370-0" (or "all": true), got ${got}`);
  }
  return { ids: ids as string[] };
}
