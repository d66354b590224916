// Polling for end-to-end tests: real processes reach a state some time after the request that
// causes it, so a test waits for it with a deadline instead of sleeping a guessed time.

/**
 * Calls `probe` every 50 ms until it returns something other than null, and returns that; a
 * probe that throws counts as "not yet". After `ms` it throws, naming `what` and quoting the
 * probe's last error.
 */
export async function eventually<T>(
  what: string,
  probe: () => Promise<T | null>,
  ms = 15_000,
): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown = null;
  while (Date.now() < end) {
    try {
      const value = await probe();
      if (value !== null) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}: ${String(last)}`);
}
