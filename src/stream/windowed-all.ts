/**
 * Starts `count` operations in index order, at most `window` of them unsettled at a time, and
 * resolves to their results in index order, as `Promise.all` over all of them would. On the first
 * rejection it starts no more and rejects with that error (those already started go on).
 *
 * `publishMany` sends through it, so that one call holds at most a producer buffer's worth of its
 * events: a call larger than the buffer then never needs the places for waiting callers
 * (`publisher.maxWaiting`), and the events it has not sent yet cost nothing but the caller's array.
 *
 * @example
 * const ids = await windowedAll(commands.length, 50_000, (i) => publisher.send(commands[i]));
 */
export function windowedAll<T>(count: number, window: number, start: (index: number) => Promise<T>): Promise<T[]> {
  if (count <= window) return Promise.all(Array.from({ length: count }, (_, index) => start(index)));
  return new Promise<T[]>((resolve, reject) => {
    const results = new Array<T>(count);
    let next = 0;
    let unsettled = 0;
    let failed = false;
    const fail = (error: unknown) => {
      if (failed) return;
      failed = true;
      reject(error);
    };
    const startMore = (): void => {
      while (!failed && unsettled < window && next < count) {
        const index = next++;
        unsettled++;
        let started: Promise<T>;
        try {
          started = start(index);
        } catch (error) {
          return fail(error);
        }
        started.then((value) => {
          results[index] = value;
          unsettled--;
          if (next === count && unsettled === 0) resolve(results);
          else startMore();
        }, fail);
      }
    };
    startMore();
  });
}
