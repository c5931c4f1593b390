import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../observe/logger.js';

/** What a route handler gets: the request, its parsed URL and path parameters, and ways to answer. */
export interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The request URL (path and query), resolved against the server's own address. */
  readonly url: URL;
  /** Path parameters, percent-decoded: `/streams/:stream/events` gives `params.stream`. */
  readonly params: Readonly<Record<string, string>>;
  /** The server's logger, bound to this request (`reqId`, method, path). */
  readonly log: Logger;
  /** The client waits for `100 Continue` before sending its body (`readBody` sends it). */
  readonly expectContinue: boolean;
  /** Answers with a JSON body. */
  json(status: number, body: unknown, headers?: Record<string, string>): void;
  /** Answers with a body of any type (text, HTML, a file's bytes). */
  send(status: number, body: string | Buffer, headers: Record<string, string> & { 'Content-Type': string }): void;
  /** Adds fields to the request's log line (the stream, how many events…). */
  annotate(fields: Record<string, unknown>): void;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** Writes a complete response; `Cache-Control: no-store`, as every answer of this API is live data. */
export function send(res: ServerResponse, status: number, body: string | Buffer, headers: Record<string, string>): void {
  res.writeHead(status, {
    'Cache-Control': 'no-store',
    ...headers,
    'Content-Length': String(typeof body === 'string' ? Buffer.byteLength(body) : body.length),
  });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  send(res, status, `${JSON.stringify(body)}\n`, { 'Content-Type': JSON_TYPE, ...headers });
}
