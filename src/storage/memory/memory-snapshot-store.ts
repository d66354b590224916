// An in-memory SnapshotStore. A snapshot becomes visible only on commit(), as with the file
// store; writers still open when the storage crashes are simply forgotten.

import { assert } from "../../assert.js";
import type { LogIndex, SnapshotMeta } from "../../core/types.js";
import { SnapshotFinishedError, StorageClosedError } from "../errors.js";
import type { SnapshotReader, SnapshotStore, SnapshotWriter } from "../types.js";

export interface StoredSnapshot {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
}

export class MemorySnapshotStore implements SnapshotStore {
  private closed = false;

  /** `committed` is keyed by snapshot index and outlives this store (it is the "disk"). */
  constructor(private readonly committed: Map<number, StoredSnapshot>) {}

  async create(meta: SnapshotMeta): Promise<SnapshotWriter> {
    this.checkOpen();
    assert(Number.isSafeInteger(meta.index) && meta.index >= 0, `snapshot index ${meta.index}`);
    return new MemorySnapshotWriter(meta, (snapshot) => {
      this.checkOpen();
      this.committed.set(snapshot.meta.index, snapshot);
    });
  }

  async latest(): Promise<SnapshotReader | null> {
    this.checkOpen();
    const [newest] = this.sorted();
    return newest === undefined ? null : new MemorySnapshotReader(newest);
  }

  async open(index: LogIndex): Promise<SnapshotReader | null> {
    this.checkOpen();
    const snapshot = this.committed.get(index);
    return snapshot === undefined ? null : new MemorySnapshotReader(snapshot);
  }

  async indexes(): Promise<LogIndex[]> {
    this.checkOpen();
    return this.sorted().map((snapshot) => snapshot.meta.index);
  }

  async list(): Promise<SnapshotMeta[]> {
    this.checkOpen();
    return this.sorted().map((snapshot) => snapshot.meta);
  }

  async retain(count: number): Promise<void> {
    this.checkOpen();
    assert(Number.isInteger(count) && count >= 1, `retain(${count})`);
    for (const old of this.sorted().slice(count)) this.committed.delete(old.meta.index);
  }

  close(): void {
    this.closed = true;
  }

  private sorted(): StoredSnapshot[] {
    return [...this.committed.values()].sort((a, b) => b.meta.index - a.meta.index);
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageClosedError("memory snapshot store");
  }
}

class MemorySnapshotWriter implements SnapshotWriter {
  private readonly chunks: Uint8Array[] = [];
  private state: "open" | "committed" | "aborted" = "open";

  constructor(
    readonly meta: SnapshotMeta,
    private readonly onCommit: (snapshot: StoredSnapshot) => void,
  ) {}

  async write(chunk: Uint8Array): Promise<void> {
    this.checkWritable();
    this.chunks.push(chunk.slice());
  }

  async commit(): Promise<void> {
    this.checkWritable();
    this.onCommit({ meta: this.meta, data: Buffer.concat(this.chunks) });
    this.state = "committed";
  }

  async abort(): Promise<void> {
    if (this.state === "committed") throw new SnapshotFinishedError("committed");
    this.state = "aborted";
    this.chunks.length = 0;
  }

  private checkWritable(): void {
    if (this.state !== "open") throw new SnapshotFinishedError(this.state);
  }
}

class MemorySnapshotReader implements SnapshotReader {
  readonly meta: SnapshotMeta;
  readonly dataBytes: number;

  constructor(private readonly snapshot: StoredSnapshot) {
    this.meta = snapshot.meta;
    this.dataBytes = snapshot.data.byteLength;
  }

  async *chunks(): AsyncIterable<Uint8Array> {
    yield this.snapshot.data.slice();
  }

  async close(): Promise<void> {}
}
