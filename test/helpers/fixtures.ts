import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { startRedisServer, type RedisServer, type RedisServerOptions } from './redis-server.js';

/*
 * Per-file fixtures. Each `use…` call, made at the top level of a test file, registers a node:test
 * `before` hook that opens a resource, and returns a holder whose getters give the resource once
 * that hook ran (and throw a clear error when read earlier, e.g. at module load).
 *
 * Opening happens in the order of registration, one after the other: node:test (Node 20) starts a
 * top-level `before` hook as soon as it is registered, so two plain hooks would run at once and
 * a Sluice could try to connect before its redis-server exists. A file's own setup that needs a
 * fixture goes through `beforeInOrder` for the same reason. When one step fails, the later ones
 * fail with its error without running.
 *
 * Cleanups run in one `after` hook, last opened first, as deferred calls do: a Sluice closes
 * before the redis-server it talks to, an HTTP server before its Redis. A cleanup that throws does
 * not keep the others from running; the first error fails the hook.
 */

type Cleanup = () => unknown;

/** Every test file runs in a process of its own: this state is the file's. */
const cleanups: Cleanup[] = [];
let afterRegistered = false;
/** Settles once every step registered so far has run; rejects if one of them failed. */
let steps: Promise<void> = Promise.resolve();

function registerAfter(): void {
  if (afterRegistered) return;
  afterRegistered = true;
  after(async () => {
    let failure: { error: unknown } | undefined;
    for (let cleanup = cleanups.pop(); cleanup; cleanup = cleanups.pop()) {
      try {
        await cleanup();
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
  });
}

/**
 * Runs `step` before the file's tests, once the fixtures and steps registered before it are done
 * (a plain top-level `before` may start while they are still opening).
 *
 * @example
 * const redis = useRedis();
 * beforeInOrder(() => redis.server.cli('ACL', 'SETUSER', 'reader', 'on', '>pw', '~*', '+@all'));
 */
export function beforeInOrder(step: () => unknown): void {
  registerAfter();
  const previous = steps;
  let start!: () => void;
  const started = new Promise<void>((resolve) => (start = resolve));
  const done = started.then(() => previous).then(async () => {
    await step();
  });
  done.catch(() => undefined); // reported by the hook that awaits it, not as an unhandled rejection
  steps = done;
  before(async () => {
    start();
    await done;
  });
}

/**
 * Opens a resource before the file's tests and closes it after them, after everything opened later.
 * `what` names it in the error thrown when it is read too early.
 *
 * @example
 * const browser = useFixture('Chromium', () => chromium.launch(), (b) => b.close());
 * test('shows a page', async () => (await browser.value.newPage()).goto(url));
 */
export function useFixture<T>(what: string, open: () => Promise<T>, close: (value: T) => unknown): { readonly value: T } {
  let opened: { value: T } | undefined;
  beforeInOrder(async () => {
    const value = await open();
    opened = { value };
    cleanups.push(() => close(value));
  });
  return {
    get value(): T {
      if (!opened) throw new Error(`${what} is not open yet: read it inside a test or a hook, once the file's before hooks ran`);
      return opened.value;
    },
  };
}

/**
 * Runs `cleanup` after the file's tests, before the cleanups of the fixtures registered earlier
 * (it is stacked in the order of registration, among the fixtures).
 */
export function onCleanup(cleanup: Cleanup): void {
  beforeInOrder(() => {
    cleanups.push(cleanup);
  });
}

/** A redis-server of the file's own (see `startRedisServer`). */
export interface RedisFixture {
  readonly server: RedisServer;
}

/**
 * Starts a redis-server of the file's own before its tests; stops it and removes its folder after.
 *
 * @example
 * const redis = useRedis({ appendonly: true });
 * test('restarts', async () => redis.server.kill());
 */
export function useRedis(options: RedisServerOptions = {}): RedisFixture {
  const server = useFixture('the redis-server', () => startRedisServer(options), (s) => s.close());
  return {
    get server() {
      return server.value;
    },
  };
}

/** A temporary folder of the file's own. */
export interface TempDir {
  readonly path: string;
}

/**
 * Makes a temporary folder (`mkdtemp` under the OS temp folder, named `prefix` and a random
 * suffix) before the file's tests; removes it and everything in it after them.
 *
 * @example
 * const dir = useTempDir('sluice-test-jsonl-');
 * test('writes', async () => writeFile(join(dir.path, 'a.jsonl'), ''));
 */
export function useTempDir(prefix: string): TempDir {
  const dir = useFixture(
    `the temporary folder ${prefix}…`,
    () => mkdtemp(join(tmpdir(), prefix)),
    (path) => rm(path, { recursive: true, force: true }),
  );
  return {
    get path() {
      return dir.value;
    },
  };
}
