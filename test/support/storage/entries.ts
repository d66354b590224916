// Log entries with readable payloads ("value-<index>-xxx…", 50-odd bytes) for storage tests.

import { type Entry, EntryType } from "../../../src/core/types.js";

/** Entries `from`..`from + count - 1`, all of `term`. */
export function textEntries(from: number, count: number, term = 1): Entry[] {
  return Array.from({ length: count }, (_, k) => ({
    term,
    index: from + k,
    type: EntryType.Normal,
    data: new TextEncoder().encode(`value-${from + k}-${"x".repeat(40)}`),
  }));
}
