// Deterministic test data for the conformance suite: a seeded PRNG (mulberry32) and entries
// whose payload is a pure function of (index, term, size), so any read can be checked exactly.

import { type Entry, EntryType, type LogIndex, type Term } from "../../core/types.js";
import type { Storage } from "../types.js";
import { seededRandom } from "../../random.js";

export { seededRandom };

export function makeEntry(index: LogIndex, term: Term, size = 16): Entry {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i += 1) data[i] = (index * 31 + term * 7 + i) & 0xff;
  const type = index % 7 === 0 ? EntryType.ConfChange : EntryType.Normal;
  return { term, index, type, data };
}

/** Entries from..to inclusive, all in `term`. */
export function makeEntries(from: LogIndex, to: LogIndex, term: Term, size = 16): Entry[] {
  const entries: Entry[] = [];
  for (let index = from; index <= to; index += 1) entries.push(makeEntry(index, term, size));
  return entries;
}

/** Plain objects for deepStrictEqual (a Buffer and a Uint8Array with equal bytes differ). */
export function plain(entries: readonly Entry[]): object[] {
  return entries.map((entry) => ({
    term: entry.term,
    index: entry.index,
    type: entry.type,
    data: Array.from(entry.data),
  }));
}

/** Everything the log holds, read in one call. */
export async function readAll(storage: Storage): Promise<Entry[]> {
  const log = storage.log;
  return log.entries(log.firstIndex(), log.lastIndex() + 1, Number.MAX_SAFE_INTEGER);
}
