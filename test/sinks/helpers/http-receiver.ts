import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the receiver got it. */
export interface ReceivedRequest {
  headers: IncomingHttpHeaders;
  /** The raw body, exactly as received. */
  body: string;
  /** The events of the body: the event (one per request) or `events` (a batch). */
  events: ReceivedEvent[];
  /** Whether `X-Sluice-Signature` matched the body and timestamp; undefined when the receiver has no secret. */
  signatureValid: boolean | undefined;
  /** The status the receiver answered (undefined while held or when it hung). */
  status: number | undefined;
  /** Which `reset()` period it arrived in. */
  generation: number;
}

export interface ReceivedEvent {
  stream: string;
  id: string;
  time: number;
  fields?: Record<string, string>;
  data?: unknown;
  meta?: Record<string, string>;
}

/** What the receiver answers: a status for every request, `hang` (never answers), or `hold` (answers when released). */
export type ReceiverBehaviour = { status: number; body?: string; headers?: Record<string, string> } | 'hang' | 'hold';

/**
 * A local HTTP endpoint (node:http on a loopback port) standing in for a webhook receiver. It
 * records every request, checks its signature with its own HMAC code (independent of the sink's),
 * stores the events of the requests it answers with 2xx, and can be told to answer 500, 400,
 * to hang, or to hold requests until the test releases them.
 */
export interface Receiver {
  readonly url: string;
  readonly requests: ReceivedRequest[];
  /** Events of the requests answered with 2xx, in the order they were answered. */
  readonly accepted: ReceivedEvent[];
  /** Requests received and not answered yet. */
  readonly inFlight: number;
  /** Requests held (behaviour `hold`), waiting for `releaseOne()`. */
  readonly held: number;
  /** The most requests that were in flight at once. */
  readonly maxInFlight: number;
  /** What the next requests get (default `{ status: 200 }`). */
  behaviour: ReceiverBehaviour;
  /** The next `count` requests get `status`, then `behaviour` again. */
  failNext(count: number, status: number): void;
  /** Requests whose body has an event this returns true for are answered 400. */
  refuseEvent: ((event: ReceivedEvent) => boolean) | undefined;
  /** Forgets the requests and events so far, and answers 200 again. */
  reset(): void;
  /** Answers the oldest held request with 200 (behaviour `hold`). Returns false when none is held. */
  releaseOne(): boolean;
  close(): Promise<void>;
}

export async function startReceiver(options: { secret?: string } = {}): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const accepted: ReceivedEvent[] = [];
  const held: Array<{ request: ReceivedRequest; res: ServerResponse }> = [];
  let inFlight = 0;
  let generation = 0;
  let maxInFlight = 0;
  let failures: Array<number> = [];

  const answer = (request: ReceivedRequest, res: ServerResponse, status: number, body = '', headers: Record<string, string> = {}) => {
    request.status = status;
    if (request.generation === generation) inFlight--;
    if (status >= 200 && status < 300) accepted.push(...request.events);
    res.writeHead(status, { 'content-type': 'text/plain', ...headers });
    res.end(body);
  };

  const server = createServer((req, res) => {
    const born = generation;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    // Given up by the client (a timeout, an abort) before an answer: no longer in flight.
    res.once('close', () => {
      if (!res.headersSent && born === generation) inFlight--;
    });
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = raw.toString('utf8');
      let events: ReceivedEvent[] = [];
      try {
        const parsed = JSON.parse(body) as ReceivedEvent | { events: ReceivedEvent[] };
        events = 'events' in parsed ? parsed.events : [parsed];
      } catch {
        // recorded as is; answered below
      }
      const request: ReceivedRequest = { headers: req.headers, body, events, signatureValid: undefined, status: undefined, generation: born };
      if (options.secret !== undefined) request.signatureValid = checkSignature(options.secret, req.headers, raw);
      requests.push(request);
      if (failures.length > 0) return answer(request, res, failures.shift() as number, 'failing on purpose');
      if (request.signatureValid === false) return answer(request, res, 401, 'bad signature');
      if (receiver.refuseEvent && events.some(receiver.refuseEvent)) return answer(request, res, 400, 'refused event');
      const behaviour = receiver.behaviour;
      if (behaviour === 'hang') return; // never answered; the connection is closed by close()
      if (behaviour === 'hold') {
        held.push({ request, res });
        return;
      }
      answer(request, res, behaviour.status, behaviour.body ?? '', behaviour.headers);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}/hooks/orders`,
    requests,
    accepted,
    get inFlight() {
      return inFlight;
    },
    get held() {
      return held.length;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    behaviour: { status: 200 },
    failNext(count, status) {
      failures = Array.from({ length: count }, () => status);
    },
    refuseEvent: undefined,
    reset() {
      requests.length = 0;
      accepted.length = 0;
      failures = [];
      generation++;
      inFlight = 0;
      maxInFlight = 0;
      receiver.behaviour = { status: 200 };
      receiver.refuseEvent = undefined;
    },
    releaseOne() {
      const next = held.shift();
      if (!next) return false;
      answer(next.request, next.res, 200);
      return true;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return receiver;
}

/** The receiver's own check of the documented scheme: HMAC-SHA256(secret, `${timestamp}.${body}`), hex. */
function checkSignature(secret: string, headers: IncomingHttpHeaders, body: Buffer): boolean {
  const timestamp = headers['x-sluice-timestamp'];
  const signature = headers['x-sluice-signature'];
  if (typeof timestamp !== 'string' || typeof signature !== 'string') return false;
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false;
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(Buffer.concat([Buffer.from(`${timestamp}.`), body])).digest('hex')}`);
  return signature.split(',').some((candidate) => {
    const given = Buffer.from(candidate.trim());
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}
