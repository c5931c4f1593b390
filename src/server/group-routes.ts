import type { Sluice } from '../sluice.js';
import { parseAgo } from '../stream/time.js';
import { HttpError } from './http-error.js';
import { readJsonObject, requireConfirm } from './json-body.js';
import type { RequestContext } from './respond.js';
import type { Route } from './router.js';

export interface GroupRoutesDeps {
  sluice: Sluice;
}

const MAX_BODY_BYTES = 4096;

/**
 * Moving and deleting a consumer group from the dashboard (what `sluice group` does):
 *
 * - `POST /api/streams/:stream/groups/:group/reset` `{"confirm":true,"to":"0"}` (`$`, `0`, an ID,
 *   an ISO time) or `{"confirm":true,"since":"1h"}`: the group's next read delivers the events
 *   after that position → `{stream, group, previousId, lastDeliveredId, lag, pending}`.
 * - `POST /api/streams/:stream/groups/:group/delete` `{"confirm":true}` (`"force":true` to delete
 *   a group with pending entries or running consumers) → `{stream, group, pending}`.
 *
 * Both refuse without `"confirm": true` (400); a missing stream or group is a 404; a delete the
 * group's state forbids is a 409 that says why.
 */
export function groupRoutes(deps: GroupRoutesDeps): Route[] {
  const target = (ctx: RequestContext) => {
    const stream = ctx.params.stream as string;
    const group = ctx.params.group as string;
    ctx.annotate({ stream, group });
    return { stream: deps.sluice.stream(stream), group };
  };
  return [
    {
      method: 'POST',
      path: '/api/streams/:stream/groups/:group/reset',
      handler: async (ctx) => {
        const { stream, group } = target(ctx);
        const body = await readJsonObject(ctx, MAX_BODY_BYTES);
        requireConfirm(body, 'move the group');
        const result = await stream.resetGroup(group, { to: position(body) });
        ctx.json(200, result);
      },
    },
    {
      method: 'POST',
      path: '/api/streams/:stream/groups/:group/delete',
      handler: async (ctx) => {
        const { stream, group } = target(ctx);
        const body = await readJsonObject(ctx, MAX_BODY_BYTES);
        requireConfirm(body, 'delete the group');
        if (body.force !== undefined && typeof body.force !== 'boolean') {
          throw new HttpError(400, 'ERR_INVALID_OPTION', `Expected \`force\` to be true or false, got ${JSON.stringify(body.force)}`);
        }
        const result = await stream.deleteGroup(group, { force: body.force === true });
        ctx.json(200, result);
      },
    },
  ];
}

/** `to` (a position) or `since` (a duration ago), exactly one of them, as a position. */
function position(body: Record<string, unknown>): string | Date {
  const { to, since } = body;
  if ((to === undefined) === (since === undefined)) {
    throw new HttpError(400, 'ERR_INVALID_OPTION', `Expected either \`to\` (\`$\`, \`0\`, a stream ID or an ISO time) or \`since\` (a duration like 1h), got ${to === undefined ? 'neither' : 'both'}`);
  }
  if (since !== undefined) return new Date(parseAgo(since, 'since'));
  if (typeof to !== 'string') throw new HttpError(400, 'ERR_INVALID_OPTION', `Expected \`to\` to be a string like "0", "$", a stream ID or an ISO time, got ${JSON.stringify(to)}`);
  return to;
}
