// One slot of the LMDB state machine: a records database and its expiry index (layout in
// lmdb-layout.ts). The live slot is the RecordStore that execute() writes through (inside the
// apply's write transaction) and that reads iterate; the other slot receives a snapshot being
// restored (SlotLoader) and becomes live in one transaction once the stream is verified.

import type { Database, RootDatabase, Transaction } from "lmdb";
import { assert } from "../assert.js";
import type { RecordStore } from "./execute.js";
import { compareKeys } from "./keys.js";
import {
  asBuf,
  decodeSlot,
  encodeBucket,
  encodeSingle,
  expiryKey,
  isBucket,
  parseExpiryKey,
  slotKeyOf,
} from "./lmdb-layout.js";
import type { KvRecord, SweepKey } from "./types.js";

export type BinaryDb = Database<Buffer, Buffer>;
const empty = Buffer.alloc(0);

function byKey(a: KvRecord, b: KvRecord): number {
  return compareKeys(a.key, b.key);
}

/** putSync inside a write transaction, checked: it reports failure by returning false. */
export function put(db: BinaryDb, key: Buffer, value: Buffer): void {
  // Typed void, but lmdb-js returns whether the put happened.
  const done: unknown = db.putSync(key, value);
  assert(done === true, () => `LMDB put of a ${key.length}-byte key failed`);
}

export class LmdbSlot implements RecordStore {
  constructor(
    readonly records: BinaryDb,
    readonly expiry: BinaryDb,
    /** Records in this slot (not LMDB entries: a bucket holds several). */
    public count: number,
  ) {}

  get(key: string): KvRecord | undefined {
    const slotKey = slotKeyOf(key);
    const bytes = this.records.getBinaryFast(slotKey);
    if (bytes === undefined) return undefined;
    // getBinaryFast reuses its buffer: decode before the next read.
    const records = decodeSlot(slotKey, bytes, key);
    return isBucket(slotKey) ? records.find((r) => r.key === key) : records[0];
  }

  /** Must run inside a write transaction (the apply's or a loader batch). */
  set(record: KvRecord, previous: KvRecord | undefined): void {
    const slotKey = slotKeyOf(record.key);
    if (isBucket(slotKey)) {
      const before = this.bucket(slotKey);
      const after = before.filter((r) => r.key !== record.key);
      after.push(record);
      after.sort(byKey);
      put(this.records, slotKey, encodeBucket(after));
      this.reindex(slotKey, before, after);
    } else {
      put(this.records, slotKey, encodeSingle(record));
      this.reindexOne(slotKey, previous?.expiresAtMs ?? 0, record.expiresAtMs);
    }
    if (previous === undefined) this.count++;
  }

  delete(previous: KvRecord): void {
    const slotKey = slotKeyOf(previous.key);
    if (isBucket(slotKey)) {
      const before = this.bucket(slotKey);
      const after = before.filter((r) => r.key !== previous.key);
      assert(after.length === before.length - 1, () => `bucket lost ${previous.key}`);
      if (after.length === 0) this.records.removeSync(slotKey);
      else put(this.records, slotKey, encodeBucket(after));
      this.reindex(slotKey, before, after);
    } else {
      const removed = this.records.removeSync(slotKey);
      assert(removed, () => `delete of absent key ${previous.key}`);
      this.reindexOne(slotKey, previous.expiresAtMs, 0);
    }
    this.count--;
    assert(this.count >= 0, "record count below 0");
  }

  /** Records in key order from the first key >= start, in `transaction` or the current state. */
  *from(start: string, transaction?: Transaction): Generator<KvRecord, void, undefined> {
    const options = {
      ...(start === "" ? {} : { start: slotKeyOf(start) }),
      ...(transaction === undefined ? {} : { transaction }),
    };
    for (const { key, value } of this.records.getRange(options)) {
      for (const record of decodeSlot(key, value)) {
        if (start === "" || compareKeys(record.key, start) >= 0) yield record;
      }
    }
  }

  /** Up to `max` keys with 0 < expiresAtMs <= nowMs, soonest first, ties in key order. */
  due(nowMs: number, max: number): SweepKey[] {
    const keys: SweepKey[] = [];
    for (const indexKey of this.expiry.getKeys({})) {
      const { expiresAtMs, slotKey } = parseExpiryKey(indexKey);
      if (expiresAtMs > nowMs || keys.length === max) break;
      const bytes = this.records.getBinary(slotKey);
      assert(bytes !== undefined, "the expiry index names an absent slot");
      for (const record of decodeSlot(slotKey, bytes)) {
        if (record.expiresAtMs !== expiresAtMs || keys.length === max) continue;
        keys.push({ key: record.key, modIndex: record.modIndex });
      }
    }
    return keys;
  }

  /** Empties both databases (each in its own transaction). */
  clear(): void {
    this.records.clearSync();
    this.expiry.clearSync();
    this.count = 0;
  }

  isEmpty(): boolean {
    for (const db of [this.records, this.expiry]) {
      for (const _ of db.getKeys({ limit: 1 })) return false;
    }
    return true;
  }

  private bucket(slotKey: Buffer): KvRecord[] {
    const bytes = this.records.getBinary(slotKey);
    return bytes === undefined ? [] : decodeSlot(slotKey, bytes);
  }

  private unindex(expiresAtMs: number, slotKey: Buffer): void {
    const removed = this.expiry.removeSync(expiryKey(expiresAtMs, slotKey));
    assert(removed, () => `the expiry index lacks ${expiresAtMs} for a slot`);
  }

  /** reindex for a single-record slot, without building sets (the hot path). */
  private reindexOne(slotKey: Buffer, was: number, next: number): void {
    if (was === next) return;
    if (was !== 0) this.unindex(was, slotKey);
    if (next !== 0) put(this.expiry, expiryKey(next, slotKey), empty);
  }

  /** Keeps one expiry entry per distinct expiry among the slot's records. */
  private reindex(slotKey: Buffer, before: readonly KvRecord[], after: readonly KvRecord[]):
    void {
    const was = new Set(before.map((r) => r.expiresAtMs));
    const next = new Set(after.map((r) => r.expiresAtMs));
    for (const expiresAtMs of was) {
      if (expiresAtMs !== 0 && !next.has(expiresAtMs)) this.unindex(expiresAtMs, slotKey);
    }
    for (const expiresAtMs of next) {
      if (expiresAtMs !== 0 && !was.has(expiresAtMs)) {
        put(this.expiry, expiryKey(expiresAtMs, slotKey), empty);
      }
    }
  }
}

/** Batches that bound the memory a restore holds (records or bytes, whichever comes first). */
const batchRecordsMax = 8192;
const batchBytesMax = 8 * 1024 * 1024;

/**
 * Writes a verified-in-order record stream into an empty slot, in bounded batches (one write
 * transaction each). The slot is not live, so a partial load is invisible and simply cleared.
 */
export class SlotLoader {
  private batch: KvRecord[] = [];
  private batchBytes = 0;
  private bucketKey: Buffer | undefined;
  private bucketRecords: KvRecord[] = [];
  private loaded = 0;

  constructor(
    private readonly root: RootDatabase<Buffer, Buffer>,
    private readonly slot: LmdbSlot,
  ) {
    assert(slot.count === 0, "a slot is loaded only when empty");
  }

  get count(): number {
    return this.loaded + this.batch.length + this.bucketRecords.length;
  }

  push(record: KvRecord): void {
    const slotKey = slotKeyOf(record.key);
    if (isBucket(slotKey)) {
      if (this.bucketKey !== undefined && !this.bucketKey.equals(slotKey)) this.endBucket();
      this.bucketKey = slotKey;
      this.bucketRecords.push(record);
      return;
    }
    this.endBucket();
    this.batch.push(record);
    this.batchBytes += 64 + record.key.length + record.value.length * 3;
    if (this.batch.length >= batchRecordsMax || this.batchBytes >= batchBytesMax) this.write();
  }

  /** Writes everything still held; the slot's count is then the number of records pushed. */
  finish(): number {
    this.endBucket();
    this.write();
    this.slot.count = this.loaded;
    return this.loaded;
  }

  private endBucket(): void {
    const slotKey = this.bucketKey;
    if (slotKey === undefined) return;
    const records = this.bucketRecords;
    this.bucketKey = undefined;
    this.bucketRecords = [];
    this.root.transactionSync(() => {
      put(this.slot.records, slotKey, encodeBucket(records));
      for (const expiresAtMs of new Set(records.map((r) => r.expiresAtMs))) {
        if (expiresAtMs !== 0) put(this.slot.expiry, expiryKey(expiresAtMs, slotKey), empty);
      }
    });
    this.loaded += records.length;
  }

  private write(): void {
    const batch = this.batch;
    if (batch.length === 0) return;
    this.batch = [];
    this.batchBytes = 0;
    this.root.transactionSync(() => {
      for (const record of batch) {
        const slotKey = asBuf(slotKeyOf(record.key));
        put(this.slot.records, slotKey, encodeSingle(record));
        if (record.expiresAtMs !== 0) {
          put(this.slot.expiry, expiryKey(record.expiresAtMs, slotKey), empty);
        }
      }
    });
    this.loaded += batch.length;
  }
}
