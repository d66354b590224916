// What the lmdb and level backends need from an ordered key-value engine: atomic batches with a
// real sync, point reads, ascending and descending range reads, and a bulk range delete.
// Keys are byte strings compared bytewise; entry keys are "e" + the 8-byte big-endian index, so
// they sort in log order, and metadata keys start with "m" so they sort after every entry.

import { indexKey } from "../binary.js";

export type KvOperation =
  | { readonly type: "put"; readonly key: Buffer; readonly value: Buffer }
  | { readonly type: "del"; readonly key: Buffer };

export interface KvPair {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
}

export interface KvEngine {
  /** The engine's directory, for error messages. */
  readonly location: string;
  get(key: Buffer): Promise<Uint8Array | undefined>;
  /** Pairs with lo <= key < hi in ascending order, at most `limit`. */
  range(lo: Buffer, hi: Buffer, limit: number): Promise<KvPair[]>;
  /** The largest key below `hi` and at or above `lo`, if any. */
  lastKey(lo: Buffer, hi: Buffer): Promise<Uint8Array | undefined>;
  /** Applies all operations atomically; with `sync`, durably before resolving. */
  write(operations: readonly KvOperation[], sync: boolean): Promise<void>;
  /** Deletes every key in [lo, hi): not atomic, not synced. */
  clearRange(lo: Buffer, hi: Buffer): Promise<void>;
  close(): Promise<void>;
}

const entryPrefix = Buffer.from("e", "latin1");
export const entryKeyPrefixBytes = entryPrefix.length;
export const compactionKey = Buffer.from("m:compaction", "latin1");
export const stableKey = Buffer.from("m:stable", "latin1");

export function entryKey(index: number): Buffer {
  return indexKey(index, entryPrefix);
}
