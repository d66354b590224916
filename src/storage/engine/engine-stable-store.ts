// StableStore on an ordered key-value engine: one stable record (stable-codec.ts) under
// "m:stable", replaced by a synced single-key batch, which both engines apply atomically.

import { asBuffer } from "../binary.js";
import { StorageClosedError } from "../errors.js";
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
  private closed = false;

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
      if (this.closed) throw new StorageClosedError(`stable store ${this.engine.location}`);
      const next = { sequence: this.record.sequence + 1,
        state: applyStableUpdate(this.record.state, update) };
      await this.engine.write([{ type: "put", key: stableKey, value: encodeStableRecord(next) }],
        true);
      this.record = next;
    });
  }

  close(): void {
    this.closed = true;
  }
}
