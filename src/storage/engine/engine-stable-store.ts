// StableStore on an ordered key-value engine: one stable record (stable-codec.ts) under
// "m:stable", replaced by a synced single-key batch, which both engines apply atomically. A
// failed write stops the store (StorageFailedError), as the file stable store does: whether it
// reached the disk is unknown, so the term and vote it held may not be reported as saved.

import { asBuffer } from "../binary.js";
import { StorageClosedError, StorageFailedError } from "../errors.js";
import { SerialQueue } from "../serial-queue.js";
import {
  type StableRecord,
  applyStableUpdate,
  decodeStableRecord,
  encodeStableRecord,
} from "../stable-codec.js";
import {
  type StableState,
  type StableStateUpdate,
  type StableStore,
  emptyStableState,
} from "../types.js";
import { type KvEngine, stableKey } from "./kv-engine.js";

export class EngineStableStore implements StableStore {
  private readonly queue = new SerialQueue();
  private status: "open" | "closed" | "failed" = "open";
  /** What stopped the store, given again by every later call. */
  private failure: unknown;

  private constructor(
    private readonly engine: KvEngine,
    private record: StableRecord,
  ) {}

  static async open(engine: KvEngine): Promise<EngineStableStore> {
    const value = await engine.get(stableKey);
    const where = `${engine.location} (key ${stableKey.toString("latin1")})`;
    const record = value === undefined
      ? { sequence: 0, state: emptyStableState }
      : decodeStableRecord(asBuffer(value), where);
    return new EngineStableStore(engine, record);
  }

  get(): StableState {
    return this.record.state;
  }

  set(update: StableStateUpdate): Promise<void> {
    return this.queue.run(async () => {
      const where = `stable store ${this.engine.location}`;
      if (this.status === "closed") throw new StorageClosedError(where);
      if (this.status === "failed") throw new StorageFailedError(where, { cause: this.failure });
      const next = { sequence: this.record.sequence + 1,
        state: applyStableUpdate(this.record.state, update) };
      try {
        await this.engine.write(
          [{ type: "put", key: stableKey, value: encodeStableRecord(next) }], true);
      } catch (error) {
        this.status = "failed";
        this.failure = error;
        throw new StorageFailedError(`writing ${where}`, { cause: error });
      }
      this.record = next;
    });
  }

  close(): void {
    this.status = "closed";
  }
}
