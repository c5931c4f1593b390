/**
 * Waits until `condition` returns a truthy value (or a promise of one), checking every `interval`
 * ms, and fails with `message` after `timeout` ms. Tests wait for conditions, never for time.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  options: { timeout?: number; interval?: number; message?: string | (() => string) } = {},
): Promise<T> {
  const timeout = options.timeout ?? 10_000;
  const interval = options.interval ?? 10;
  const deadline = Date.now() + timeout;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await condition();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const message = typeof options.message === 'function' ? options.message() : options.message ?? 'condition not met';
      throw new Error(`Timed out after ${timeout} ms: ${message}${lastError ? ` (last error: ${String(lastError)})` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
}
