// The WAL backend's StableStore: one file holding two copies of the 512-byte stable record
// (stable-codec.ts). set() writes copy A, fsyncs, then copy B, fsyncs. A crash can tear at most
// the copy being written, and the other copy then holds either the previous or the new state,
// both acceptable since set() had not returned. A single damaged copy (bit rot) is also
// survived, because after every completed set() both copies are equal. Two bad copies, or a file
// of the wrong size (a crash never changes its size), is CorruptStateError.

import { type FileHandle, open } from "node:fs/promises";
import { CorruptStateError, StorageClosedError, StorageFailedError } from "../errors.js";
import { readFileIfExists, writeFileAtomic, writeFully } from "../fs-util.js";
import { SerialQueue } from "../serial-queue.js";
import {
  type StableRecord,
  applyStableUpdate,
  decodeStableRecord,
  encodeStableRecord,
  stableRecordBytes,
} from "../stable-codec.js";
import {
  type StableState,
  type StableStateUpdate,
  type StableStore,
  emptyStableState,
} from "../types.js";

const fileBytes = 2 * stableRecordBytes;

export class FileStableStore implements StableStore {
  private readonly queue = new SerialQueue();
  private status: "open" | "closed" | "failed" = "open";
  /** What stopped the store, given again by every later call. */
  private failure: unknown;

  private constructor(
    private readonly path: string,
    private readonly handle: FileHandle,
    private record: StableRecord,
  ) {}

  /** Opens the state file, creating it (empty state) when `create` and it does not exist. */
  static async open(path: string, create: boolean): Promise<FileStableStore> {
    const bytes = await readFileIfExists(path);
    let record: StableRecord;
    if (bytes === null) {
      if (!create) throw new CorruptStateError(path, "state file is missing but the log exists");
      record = { sequence: 1, state: emptyStableState };
      const copy = encodeStableRecord(record);
      await writeFileAtomic(path, Buffer.concat([copy, copy]));
    } else {
      record = decodeStateFile(bytes, path);
    }
    return new FileStableStore(path, await open(path, "r+"), record);
  }

  get(): StableState {
    return this.record.state;
  }

  set(update: StableStateUpdate): Promise<void> {
    return this.queue.run(async () => {
      this.checkOpen();
      const next = { sequence: this.record.sequence + 1,
        state: applyStableUpdate(this.record.state, update) };
      const bytes = encodeStableRecord(next);
      try {
        await writeFully(this.handle, bytes, 0);
        await this.handle.datasync();
        await writeFully(this.handle, bytes, stableRecordBytes);
        await this.handle.datasync();
      } catch (error) {
        this.status = "failed";
        this.failure = error;
        throw new StorageFailedError(`writing ${this.path}`, { cause: error });
      }
      this.record = next;
    });
  }

  close(): Promise<void> {
    return this.queue.run(async () => {
      if (this.status === "closed") return;
      this.status = "closed";
      await this.handle.close();
    });
  }

  private checkOpen(): void {
    if (this.status === "closed") throw new StorageClosedError(`stable store ${this.path}`);
    if (this.status === "failed") {
      throw new StorageFailedError(`stable store ${this.path}`, { cause: this.failure });
    }
  }
}

/** Picks the newest intact copy. */
export function decodeStateFile(bytes: Buffer, path: string): StableRecord {
  if (bytes.length !== fileBytes) {
    throw new CorruptStateError(path, `file has ${bytes.length} bytes, want ${fileBytes}`);
  }
  const copies: StableRecord[] = [];
  const reasons: string[] = [];
  for (const slot of [0, 1]) {
    const start = slot * stableRecordBytes;
    try {
      copies.push(decodeStableRecord(bytes.subarray(start, start + stableRecordBytes), path));
    } catch (error) {
      if (!(error instanceof CorruptStateError)) throw error;
      reasons.push(`copy ${slot === 0 ? "A" : "B"}: ${error.reason}`);
    }
  }
  const [first, second] = copies;
  if (first === undefined) {
    throw new CorruptStateError(path, `both copies bad (${reasons.join("; ")})`);
  }
  return second !== undefined && second.sequence > first.sequence ? second : first;
}
