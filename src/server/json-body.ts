import { readBody } from './body.js';
import { HttpError } from './http-error.js';
import type { RequestContext } from './respond.js';

/**
 * Reads a small JSON object body (an admin command). `Content-Type: application/json` is
 * required: a cross-site form or a `text/plain` fetch cannot send it without a CORS preflight,
 * which this server never grants, so a web page the user visits cannot purge a dead-letter
 * stream on a server without a token.
 */
export async function readJsonObject(ctx: RequestContext, maxBytes: number): Promise<Record<string, unknown>> {
  const type = (ctx.req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type !== 'application/json') {
    throw new HttpError(415, 'ERR_UNSUPPORTED_MEDIA_TYPE', `Expected Content-Type application/json, got ${type === '' ? 'none' : type}`);
  }
  const text = await readBody(ctx.req, ctx.res, { maxBytes, expectContinue: ctx.expectContinue });
  let value: unknown;
  try {
    value = text.trim() === '' ? {} : JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, 'ERR_MALFORMED_JSON', `The body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new HttpError(400, 'ERR_INVALID_BODY', `Expected the body to be a JSON object like {"confirm":true}, got ${Array.isArray(value) ? 'an array' : JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}

/**
 * Destructive commands (redrive, purge) need `"confirm": true` in their body: a person's
 * explicit go-ahead, which the dashboard asks for.
 */
export function requireConfirm(body: Record<string, unknown>, what: string): void {
  if (body.confirm !== true) {
    throw new HttpError(400, 'ERR_CONFIRMATION_REQUIRED', `Expected "confirm": true in the body to ${what}, got ${body.confirm === undefined ? 'none' : JSON.stringify(body.confirm)}`);
  }
}
