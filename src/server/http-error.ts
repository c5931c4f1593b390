import { SluiceError } from '../errors.js';

/**
 * An HTTP answer other than success, decided by the server itself (a limit, malformed JSON, a
 * missing token…) or mapped from a library error by `toHttpError`. Clients see
 * `{"error":{"code":…,"message":…,…details}}` with `status` and `headers`.
 */
export class HttpError extends SluiceError {
  /** Response headers (`Retry-After`, `Allow`, `WWW-Authenticate`…). */
  readonly headers: Record<string, string>;
  /** More members of the `error` object, for programs: the line, the index, the limit… */
  readonly details: Record<string, unknown>;

  constructor(
    readonly status: number,
    code: string,
    message: string,
    init: { headers?: Record<string, string>; details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(code, message, init.cause === undefined ? undefined : { cause: init.cause });
    this.headers = init.headers ?? {};
    this.details = init.details ?? {};
  }

  /** The response body. */
  toJSON(): { error: Record<string, unknown> } {
    return { error: { code: this.code, message: this.message, ...this.details } };
  }
}

/** A request whose client went away before it was read: nobody is left to answer. */
export class ClientGoneError extends SluiceError {
  constructor(options?: { cause?: unknown }) {
    super('ERR_CLIENT_GONE', 'The client closed the connection before the request was read', options);
  }
}
