import { request, type IncomingMessage } from 'node:http';
import { waitFor } from '../helpers/wait.js';

/** One server-sent event as received. */
export interface ReceivedEvent {
  event: string;
  data: string;
  /** The event's `id:` line, when it had one. */
  id?: string;
}

/** A server-sent event stream being read by a test. */
export interface SseClient {
  status: number;
  headers: Headers;
  /** Every event received so far, in order (comments are counted in `comments`). */
  readonly events: ReceivedEvent[];
  readonly comments: string[];
  /** True once the server ended the stream. */
  readonly ended: boolean;
  /** Waits until `count` events named `name` were received; returns them. */
  waitForEvents(name: string, count: number, timeout?: number): Promise<ReceivedEvent[]>;
  /** Resolves once the server ended the stream. */
  readonly done: Promise<void>;
  /** Goes away (aborts the request). */
  close(): void;
}

/**
 * Opens an event stream and reads it in the background. node:http with a connection of its own
 * (no agent), so that `close()` ends that connection at once, as a browser leaving does.
 */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request(url, { agent: false, headers: { Accept: 'text/event-stream', ...headers } }, resolve);
    req.once('error', reject);
    req.end();
  });
  const events: ReceivedEvent[] = [];
  const comments: string[] = [];
  let ended = false;
  let closing = false;
  const done = (async () => {
    let buffer = '';
    try {
      for await (const chunk of res.setEncoding('utf8') as AsyncIterable<string>) {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          let id: string | undefined;
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line.slice(1).trim());
            else if (line.startsWith('event: ')) event = line.slice('event: '.length);
            else if (line.startsWith('data: ')) data.push(line.slice('data: '.length));
            else if (line.startsWith('id: ')) id = line.slice('id: '.length);
          }
          if (data.length > 0) events.push(id === undefined ? { event, data: data.join('\n') } : { event, data: data.join('\n'), id });
        }
      }
    } catch (error) {
      if (!closing) throw error;
    } finally {
      ended = true;
    }
  })();
  done.catch(() => undefined);
  const responseHeaders = new Headers();
  for (const [name, value] of Object.entries(res.headers)) if (typeof value === 'string') responseHeaders.set(name, value);
  return {
    status: res.statusCode ?? 0,
    headers: responseHeaders,
    events,
    comments,
    get ended() {
      return ended;
    },
    async waitForEvents(name, count, timeout = 10_000) {
      await waitFor(() => events.filter((e) => e.event === name).length >= count, {
        timeout,
        message: () => `${count} \`${name}\` events; got ${JSON.stringify(events.map((e) => e.event))}${ended ? ' (the stream ended)' : ''}`,
      });
      return events.filter((e) => e.event === name);
    },
    done,
    close() {
      closing = true;
      res.destroy();
    },
  };
}
