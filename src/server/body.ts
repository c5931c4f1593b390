import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ClientGoneError, HttpError } from './http-error.js';
import { formatSize } from './limits.js';

export interface ReadBodyOptions {
  /** Most bytes accepted; past them, 413 and nothing more is read. */
  maxBytes: number;
  /** The client sent `Expect: 100-continue` and waits for the go-ahead before sending the body. */
  expectContinue?: boolean;
}

/**
 * Reads a request body as UTF-8 text (refusing bytes that are not UTF-8), never holding more than `maxBytes` of it. A declared
 * Content-Length over the limit is refused before a byte is read (and, with `Expect:
 * 100-continue`, before the client sends any); a body that grows past it while streaming is
 * refused as soon as it does. Either way the connection is closed after the 413, as the rest of
 * the body may still be on its way.
 */
export async function readBody(req: IncomingMessage, res: ServerResponse, options: ReadBodyOptions): Promise<string> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > options.maxBytes) throw tooLarge(options.maxBytes, Number(declared));
  if (options.expectContinue) res.writeContinue();
  const chunks: Buffer[] = [];
  let size = 0;
  await new Promise<void>((resolve, reject) => {
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > options.maxBytes) {
        cleanup();
        // Discard what keeps arriving until the connection closes after the 413.
        req.resume();
        reject(tooLarge(options.maxBytes, undefined));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve();
    };
    const onGone = (error?: unknown) => {
      cleanup();
      reject(new ClientGoneError(error === undefined ? undefined : { cause: error }));
    };
    const onClose = () => {
      if (!req.complete) onGone();
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onGone);
    req.once('close', onClose);
  });
  const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
  if (!isUtf8(body)) {
    const offset = firstInvalidUtf8(body);
    throw new HttpError(400, 'ERR_MALFORMED_JSON', `The body is not valid UTF-8: bad byte at offset ${offset}`, { details: { offset } });
  }
  // A byte-order mark stays: the parser skips it, and byte offsets in its messages count it.
  return body.toString('utf8');
}

function tooLarge(maxBytes: number, declared: number | undefined): HttpError {
  const size = declared === undefined ? 'The body is' : `The body (${declared} bytes) is`;
  return new HttpError(413, 'ERR_BODY_TOO_LARGE', `${size} larger than the limit of ${formatSize(maxBytes)} (maxBody): send fewer events per request`, {
    headers: { Connection: 'close' },
    details: { limit: 'maxBody', max: maxBytes },
  });
}

/** Offset of the first byte that does not start or continue a well-formed UTF-8 sequence. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] as number;
    let extra: number;
    let min: number;
    if (b < 0x80) {
      i++;
      continue;
    } else if (b >= 0xc2 && b <= 0xdf) {
      extra = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      extra = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      extra = 3;
      min = 0x10000;
    } else {
      return i;
    }
    let code = b & (0x3f >> extra);
    for (let k = 1; k <= extra; k++) {
      const next = bytes[i + k];
      if (next === undefined || (next & 0xc0) !== 0x80) return i;
      code = (code << 6) | (next & 0x3f);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
    if (code < min || (code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) return i;
    i += extra + 1;
  }
  return -1;
}
