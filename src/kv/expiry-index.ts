// The in-memory state machine's expiry index: every key with an expiry, ordered by
// (expiresAtMs, key), so that `expiredKeys(nowMs, max)` reads the soonest expiries in
// O(log n + max) instead of scanning the whole state. It is derived data: kept in step with
// every record change by `update`, rebuilt from the records after a restore, never
// snapshotted (the records carry their expiry).

import { assert } from "../assert.js";
import { BTree, recordsFrom } from "./btree.js";
import type { KvRecord } from "./types.js";

interface ExpiryEntry {
  /** `order(expiresAtMs, key)`: a string that sorts by expiry, then by key. */
  readonly key: string;
  readonly target: string;
  readonly expiresAtMs: number;
}

/** Digits of Number.MAX_SAFE_INTEGER: a fixed-width decimal sorts like the number. */
const expiryDigits = 16;

function order(expiresAtMs: number, key: string): string {
  assert(Number.isSafeInteger(expiresAtMs) && expiresAtMs > 0, () => `expiry ${expiresAtMs}`);
  return expiresAtMs.toString().padStart(expiryDigits, "0") + key;
}

export class ExpiryIndex {
  private readonly tree = new BTree<ExpiryEntry>();

  /** Keys with an expiry. */
  get size(): number {
    return this.tree.size;
  }

  /** An index of every record with an expiry in `records`. */
  static build(records: Iterable<KvRecord>): ExpiryIndex {
    const index = new ExpiryIndex();
    for (const record of records) index.update(undefined, record);
    return index;
  }

  /** Reflects a change of one key from `before` to `after` (undefined: absent). */
  update(before: KvRecord | undefined, after: KvRecord | undefined): void {
    assert(before === undefined || after === undefined || before.key === after.key,
      "an expiry update concerns one key");
    const was = before?.expiresAtMs ?? 0;
    const next = after?.expiresAtMs ?? 0;
    if (was === next) return;
    if (before !== undefined && was !== 0) {
      const removed = this.tree.delete(order(was, before.key));
      assert(removed !== undefined, () => `expiry index lost key ${before.key}`);
    }
    if (after !== undefined && next !== 0) {
      this.tree.set({ key: order(next, after.key), target: after.key, expiresAtMs: next });
    }
  }

  /** Keys with 0 < expiresAtMs <= nowMs, soonest first, ties in key order. */
  *due(nowMs: number): Generator<string, void, undefined> {
    for (const entry of recordsFrom(this.tree.liveRoot())) {
      if (entry.expiresAtMs > nowMs) return;
      yield entry.target;
    }
  }
}
