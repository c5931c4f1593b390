import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * How the webhook sink signs its requests, and how a receiver checks them.
 *
 * - `X-Sluice-Timestamp: <unix seconds>` — when the request was sent (each retry is signed anew);
 * - `X-Sluice-Signature: sha256=<hex>` — HMAC-SHA256, keyed with the shared secret, of the
 *   timestamp, a `.`, and the raw request body, byte for byte: `HMAC(secret, "<timestamp>.<body>")`.
 *   While a secret is being rotated, the sink signs with each secret and lists the signatures,
 *   comma-separated: `sha256=<hex1>,sha256=<hex2>`; a receiver accepts any that matches.
 *
 * A receiver recomputes the HMAC over the body as received (before parsing it), compares in
 * constant time, and refuses timestamps too far from its clock (replays): `verifyWebhookSignature`.
 */
export const SIGNATURE_HEADER = 'X-Sluice-Signature';
export const TIMESTAMP_HEADER = 'X-Sluice-Timestamp';

/** The `X-Sluice-Signature` value for a body sent at `timestamp` (unix seconds). */
export function signWebhook(secrets: string | readonly string[], timestamp: number, body: string | Uint8Array): string {
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  return list.map((secret) => `sha256=${hmacHex(secret, timestamp, body)}`).join(',');
}

export interface VerifyWebhookOptions {
  /** The shared secret (or secrets, while rotating). */
  secret: string | readonly string[];
  /** The raw request body, exactly as received. */
  body: string | Uint8Array;
  /** The `X-Sluice-Timestamp` header. */
  timestamp: string | undefined | null;
  /** The `X-Sluice-Signature` header. */
  signature: string | undefined | null;
  /** Largest accepted difference between the timestamp and now, in seconds. @default 300 */
  toleranceSeconds?: number;
  /** The receiver's clock, in ms. @default Date.now() */
  now?: number;
}

/** True when the request was signed with the secret, over this body, recently enough. */
export function verifyWebhookSignature(options: VerifyWebhookOptions): boolean {
  const { timestamp, signature } = options;
  if (!timestamp || !signature || !/^\d{1,12}$/.test(timestamp)) return false;
  const sentAt = Number(timestamp);
  const now = (options.now ?? Date.now()) / 1000;
  if (Math.abs(now - sentAt) > (options.toleranceSeconds ?? 300)) return false;
  const secrets = typeof options.secret === 'string' ? [options.secret] : options.secret;
  const given = signature
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.startsWith('sha256='))
    .map((part) => Buffer.from(part.slice(7), 'hex'));
  for (const secret of secrets) {
    const expected = Buffer.from(hmacHex(secret, sentAt, options.body), 'hex');
    if (given.some((candidate) => candidate.length === expected.length && timingSafeEqual(candidate, expected))) return true;
  }
  return false;
}

function hmacHex(secret: string, timestamp: number, body: string | Uint8Array): string {
  return createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}
