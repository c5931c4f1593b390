import { createHash, timingSafeEqual } from 'node:crypto';
import { InvalidInputError } from '../errors.js';
import { HttpError } from './http-error.js';

/**
 * Bearer-token authentication (RFC 6750): `Authorization: Bearer <token>`. Tokens are compared
 * as SHA-256 digests with `timingSafeEqual`, so the time taken says nothing about how much of a
 * guess was right, nor about the token's length.
 */
export class BearerAuth {
  readonly #digest: Buffer;

  constructor(token: string, option = 'token') {
    // Visible ASCII only: what an Authorization header can carry without quoting or encoding.
    if (typeof token !== 'string' || !/^[\x21-\x7e]+$/.test(token)) {
      // The value is not repeated: it is a secret, or close to one.
      const got = typeof token !== 'string' ? `a ${token === null ? 'null' : typeof token}` : token === '' ? 'an empty string' : 'a token with spaces or characters outside visible ASCII';
      throw new InvalidInputError('ERR_INVALID_OPTION', `Expected \`${option}\` to be a non-empty token of visible ASCII characters, without spaces, got ${got}`);
    }
    this.#digest = digest(token);
  }

  /** Throws a 401 unless the header carries the token. */
  check(authorization: string | undefined): void {
    if (authorization === undefined || authorization.trim() === '') {
      throw unauthorized('Expected an `Authorization: Bearer <token>` header', 'Bearer realm="sluice"');
    }
    const match = /^Bearer +([\x21-\x7e]+) *$/i.exec(authorization);
    if (!match) {
      throw unauthorized('Expected the Authorization header to be `Bearer <token>`', 'Bearer realm="sluice", error="invalid_request"');
    }
    if (!timingSafeEqual(digest(match[1] as string), this.#digest)) {
      throw unauthorized('The bearer token is not valid', 'Bearer realm="sluice", error="invalid_token"');
    }
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

function unauthorized(message: string, challenge: string): HttpError {
  return new HttpError(401, 'ERR_UNAUTHORIZED', message, { headers: { 'WWW-Authenticate': challenge } });
}
