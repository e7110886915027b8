/**
 * Reads `read()` until `done` holds or `timeoutMs` passed, and returns the last value (the caller
 * asserts on it, so a timeout fails with what was seen). For work a background worker finishes.
 */
export async function poll<T>(read: () => T | Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
