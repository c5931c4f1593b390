import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterEach } from 'node:test';
import type { EventEnvelope, Sluice, Worker, WorkerEvents } from '../../src/index.js';
import { waitFor } from '../helpers/wait.js';

/** One row of `XPENDING key group - + count [consumer]`: ID, consumer, idle ms, deliveries. */
export interface PendingEntry {
  id: string;
  consumer: string;
  idleMs: number;
  deliveries: number;
}

/** The group's pending entries, as Redis holds them (the PEL), oldest first. */
export async function pendingEntries(sluice: Sluice, stream: string, group: string, consumer?: string): Promise<PendingEntry[]> {
  const args = ['XPENDING', stream, group, '-', '+', '10000'];
  if (consumer !== undefined) args.push(consumer);
  const rows = await sluice.connection.command<Array<[string, string, number, number]>>(args);
  return rows.map(([id, owner, idleMs, deliveries]) => ({ id, consumer: owner, idleMs: Number(idleMs), deliveries: Number(deliveries) }));
}

/** A promise with its resolve function, to release a waiting handler from the test. */
export function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A promise that never settles: a handler stuck for good (a hung downstream call). */
export function never(): Promise<void> {
  return new Promise<void>(() => undefined);
}

/** What the fixture worker process is told to do (see fixtures/slow-worker.ts). */
export interface FixtureWorkerOptions {
  url: string;
  stream: string;
  group: string;
  consumer: string;
  /** `hang`: handlers never finish; `crash`: the process kills itself (SIGKILL) inside the handler. */
  mode: 'hang' | 'crash';
  concurrency?: number;
  claimIdle?: number;
  maxDeliveries?: number;
}

/** A worker in a child process, and the lines it printed so far. */
export interface FixtureWorker {
  child: ChildProcess;
  /** `holding <id>` lines: entries whose handler started. */
  holding: string[];
  exited: Promise<number | null>;
  /** Waits for `ready` (the worker's group exists and it fetches). */
  ready: Promise<void>;
}

/** Spawns `node dist/test/consumer/fixtures/slow-worker.js` with `options`. */
export function spawnFixtureWorker(options: FixtureWorkerOptions): FixtureWorker {
  const script = new URL('./fixtures/slow-worker.js', import.meta.url);
  const child = spawn(process.execPath, [script.pathname, JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const holding: string[] = [];
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr += String(chunk)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let isReady = false;
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  lines.on('line', (line) => {
    if (line === 'ready') isReady = true;
    else if (line.startsWith('holding ')) holding.push(line.slice('holding '.length));
  });
  let exitedEarly = false;
  void exited.then(() => (exitedEarly = !isReady));
  const ready = waitFor(
    () => {
      if (exitedEarly) throw new Error(`the fixture worker exited before it was ready: ${stderr}`);
      return isReady;
    },
    { timeout: 15_000, message: () => `the fixture worker did not get ready: ${stderr}` },
  ).then(() => undefined);
  return { child, holding, exited, ready };
}

/** The next `name` event of a worker; rejects after `timeout` ms. */
export function nextEvent<E extends EventEnvelope, K extends keyof WorkerEvents<E>>(worker: Worker<E>, name: K, timeout = 10_000): Promise<WorkerEvents<E>[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      worker.off(name, listener);
      reject(new Error(`Timed out after ${timeout} ms waiting for the worker's ${String(name)} event`));
    }, timeout);
    const listener = (payload: WorkerEvents<E>[K]) => {
      clearTimeout(timer);
      worker.off(name, listener);
      resolve(payload);
    };
    worker.on(name, listener);
  });
}

/** The seed guide's order event, and its flat field list as redis-cli shows it. */
export const ORDER = { order_id: '12345', customer_id: '67890', amount: '99.99', status: 'pending' };
export const ORDER_FIELDS = ['order_id', '12345', 'customer_id', '67890', 'amount', '99.99', 'status', 'pending'];

interface Closable {
  close(options?: { timeout?: number }): Promise<void>;
}

/**
 * Closes, after each test of the file, every worker passed to the returned function: a test that
 * fails half-way must not leave a worker running into the next test (or keep the process alive).
 */
export function closeAfterEach(): <W extends Closable>(worker: W) => W {
  const open = new Set<Closable>();
  afterEach(async () => {
    const workers = [...open];
    open.clear();
    await Promise.all(workers.map((w) => w.close({ timeout: 200 })));
  });
  return (worker) => {
    open.add(worker);
    return worker;
  };
}
