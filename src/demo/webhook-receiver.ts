import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifyWebhookSignature } from '../sinks/webhook-signature.js';

/** What the demo's receiver has seen. */
export interface ReceiverCounts {
  /** Requests answered 2xx. */
  calls: number;
  /** Events in those requests, redeliveries included. */
  events: number;
  /** Distinct events (by stream and ID): what a receiver that dedupes would keep. */
  distinctEvents: number;
  /** Requests refused for a missing or wrong signature (401). */
  badSignatures: number;
  /** Requests answered 503 on purpose (`failEvery`), which the sink retries. */
  failedOnPurpose: number;
}

export interface WebhookReceiverOptions {
  /** The secret the sink signs with. */
  secret: string;
  /**
   * Answer every n-th request with a 503, as a flaky downstream would, so that the sink's retries
   * show. `0` never fails.
   * @default 0
   */
  failEvery?: number;
}

/**
 * The local HTTP endpoint the demo's webhook pipeline delivers to: it checks each request's
 * HMAC signature (as a real receiver must) and counts what arrives.
 */
export class WebhookReceiver {
  readonly counts: ReceiverCounts = { calls: 0, events: 0, distinctEvents: 0, badSignatures: 0, failedOnPurpose: 0 };
  readonly #server: Server;
  readonly #options: Required<WebhookReceiverOptions>;
  readonly #seen = new Set<string>();
  #requests = 0;

  private constructor(options: WebhookReceiverOptions) {
    this.#options = { failEvery: 0, ...options };
    this.#server = createServer((req, res) => {
      this.#receive(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(500).end();
      });
    });
  }

  /** Starts a receiver on a free loopback port. */
  static async start(options: WebhookReceiverOptions): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver(options);
    await new Promise<void>((resolve, reject) => {
      receiver.#server.once('error', reject);
      receiver.#server.listen(0, '127.0.0.1', () => resolve());
    });
    return receiver;
  }

  get url(): string {
    const { port } = this.#server.address() as AddressInfo;
    return `http://127.0.0.1:${port}/hooks/orders`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #receive(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const signed = verifyWebhookSignature({
      secret: this.#options.secret,
      body,
      timestamp: req.headers[TIMESTAMP_HEADER.toLowerCase()] as string | undefined,
      signature: req.headers[SIGNATURE_HEADER.toLowerCase()] as string | undefined,
    });
    if (!signed) {
      this.counts.badSignatures++;
      res.writeHead(401).end();
      return;
    }
    this.#requests++;
    if (this.#options.failEvery > 0 && this.#requests % this.#options.failEvery === 0) {
      this.counts.failedOnPurpose++;
      res.writeHead(503, { 'retry-after': '0' }).end();
      return;
    }
    const parsed = JSON.parse(body.toString('utf8')) as { events?: Array<{ stream: string; id: string }> } & { stream?: string; id?: string };
    const events = parsed.events ?? [parsed as { stream: string; id: string }];
    this.counts.calls++;
    this.counts.events += events.length;
    for (const event of events) this.#seen.add(`${event.stream} ${event.id}`);
    this.counts.distinctEvents = this.#seen.size;
    res.writeHead(204).end();
  }
}
