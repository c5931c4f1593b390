/**
 * The least a Node client can do to talk to Redis: a bare `net` socket, commands encoded by hand,
 * replies parsed by a twenty-line RESP2 reader, no timeouts, no reconnects, no queue beyond the
 * FIFO of callers. Not a client anyone should ship: it is the floor the latency scenario measures
 * Sluice against, so what is left of Sluice's tail is the machine's.
 */
import { connect as connectSocket, type Socket } from 'node:net';

export type RawReply = string | number | null | RawReply[] | Error;

/** RESP2 reply starting at `at`, or undefined when `buf` does not hold all of it yet. */
function parseReply(buf: Buffer, at: number): { value: RawReply; next: number } | undefined {
  const lineEnd = buf.indexOf('\r\n', at);
  if (lineEnd < 0) return undefined;
  const type = buf[at];
  const line = buf.toString('latin1', at + 1, lineEnd);
  const next = lineEnd + 2;
  if (type === 0x2b /* + */) return { value: line, next };
  if (type === 0x2d /* - */) return { value: new Error(line), next };
  if (type === 0x3a /* : */) return { value: Number(line), next };
  const length = Number(line);
  if (type === 0x24 /* $ */) {
    if (length < 0) return { value: null, next };
    if (buf.length < next + length + 2) return undefined;
    return { value: buf.toString('utf8', next, next + length), next: next + length + 2 };
  }
  if (type === 0x2a /* * */) {
    if (length < 0) return { value: null, next };
    const items: RawReply[] = [];
    let cursor = next;
    for (let i = 0; i < length; i++) {
      const item = parseReply(buf, cursor);
      if (!item) return undefined;
      items.push(item.value);
      cursor = item.next;
    }
    return { value: items, next: cursor };
  }
  throw new Error(`unexpected RESP type byte ${type} at offset ${at}`);
}

function encode(args: string[]): string {
  let out = `*${args.length}\r\n`;
  for (const arg of args) out += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
  return out;
}

export class RawRedis {
  readonly #socket: Socket;
  readonly #waiting: Array<{ resolve(reply: RawReply): void; reject(error: Error): void }> = [];
  #pending: Buffer = Buffer.alloc(0);
  /** Commands of the current tick, written together once it ends (one syscall per tick). */
  #out = '';

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (error) => this.#failAll(error));
    socket.on('close', () => this.#failAll(new Error('connection closed')));
  }

  static connect(url: string): Promise<RawRedis> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connectSocket({ host: hostname, port: Number(port) }, () => {
        socket.off('error', reject);
        resolve(new RawRedis(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Queues `args` for this tick's write; resolves with its reply (an error reply rejects). */
  call(args: string[]): Promise<RawReply> {
    if (this.#out === '') queueMicrotask(() => this.#flush());
    this.#out += encode(args);
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  async close(): Promise<void> {
    await this.call(['QUIT']).catch(() => undefined);
    this.#socket.destroy();
  }

  #flush(): void {
    this.#socket.write(this.#out);
    this.#out = '';
  }

  #onData(chunk: Buffer): void {
    const buf = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    let at = 0;
    for (let reply = parseReply(buf, at); reply; reply = parseReply(buf, at)) {
      at = reply.next;
      const waiter = this.#waiting.shift();
      if (!waiter) throw new Error('a reply came with no command waiting for it');
      if (reply.value instanceof Error) waiter.reject(reply.value);
      else waiter.resolve(reply.value);
      if (at === buf.length) break;
    }
    this.#pending = buf.subarray(at);
  }

  #failAll(error: Error): void {
    for (const waiter of this.#waiting.splice(0)) waiter.reject(error);
  }
}

export const RAW_WORKER_METHOD = 'loop of XREADGROUP(COUNT 100, BLOCK 2000, \'>\') + handler per entry, then XACK(ids…) and the next read in one write';

/**
 * The floor of a group worker: `XREADGROUP … COUNT 100 BLOCK 2000 STREAMS key >`, the handler per
 * entry, then the batch's XACK and the next read written together (the same round trips Sluice's
 * worker makes), until `done()` says so.
 */
export async function rawGroupWorker(
  redis: RawRedis,
  options: { key: string; group: string; consumer: string; handler: (fields: string[]) => void; done: () => boolean },
): Promise<void> {
  const read = ['XREADGROUP', 'GROUP', options.group, options.consumer, 'COUNT', '100', 'BLOCK', '2000', 'STREAMS', options.key, '>'];
  let acked: Promise<RawReply> | undefined;
  while (!options.done()) {
    const reply = (await redis.call(read)) as Array<[string, Array<[string, string[]]>]> | null;
    await acked;
    const entries = reply?.[0]?.[1] ?? [];
    if (entries.length === 0) continue;
    for (const [, fields] of entries) options.handler(fields);
    acked = redis.call(['XACK', options.key, options.group, ...entries.map(([id]) => id)]);
  }
  await acked;
}
