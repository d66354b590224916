// Invariant checks. A failed assertion is a bug in raft-store, never an operating condition:
// nothing catches AssertionError, and the process is expected to exit with its message.

export class AssertionError extends Error {
  override readonly name = "AssertionError";
}

export function assert(condition: boolean, message: string | (() => string)): asserts condition {
  if (!condition) {
    throw new AssertionError(typeof message === "string" ? message : message());
  }
}

/** Marks the unreachable default branch of a switch over a union. */
export function assertNever(value: never, what = "value"): never {
  throw new AssertionError(`unexpected ${what}: ${JSON.stringify(value)}`);
}
