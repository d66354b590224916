// A spare segment file, filled with zeros and synced before the WAL needs it. Appending to a
// file changes its size, so every synced append to a fresh segment also commits file-system
// metadata (ext4: a journal commit, a second device flush). Overwriting blocks that are already
// written is a data write only: on the machine this was measured on, 64 KiB O_DSYNC writes into
// a zero-filled file ran about 1.4x as fast as appends, and 4 KiB ones about 1.6x. PostgreSQL
// zero-fills its WAL segments for the same reason. The cost is writing each segment twice (once
// zeros, in the background, paced in chunks) and one more segment of disk space.
//
// Files in the WAL directory (their names never match a segment's):
//   spare.tmp    being filled; removed on open (a crash may have left it partly written)
//   spare.zero   filled and synced; renamed into place as the next segment by the WAL
// Recovery reads an all-zero tail after a segment's last record as its clean end (recovery.ts).

import { constants } from "node:fs";
import { open, rename, stat } from "node:fs/promises";
import { join } from "node:path";
import { assert } from "../../assert.js";
import { isNotFound, unlinkIfExists } from "../fs-util.js";

const chunkBytes = 1024 * 1024;
/** Zeros written between two fdatasyncs: small, so a sync holds up the WAL's writes briefly. */
const syncEveryBytes = 1024 * 1024;
const zeros = Buffer.alloc(chunkBytes);

export class SpareSegment {
  private readonly tmpPath: string;
  private readonly readyPath: string;
  private ready: boolean;
  private filling: Promise<void> | null = null;
  private closed = false;

  private constructor(dir: string, private readonly bytes: number, ready: boolean) {
    this.tmpPath = join(dir, "spare.tmp");
    this.readyPath = join(dir, "spare.zero");
    this.ready = ready;
  }

  /** Keeps a finished spare of the right size, removes anything else, starts filling. */
  static async open(dir: string, bytes: number): Promise<SpareSegment> {
    const readyPath = join(dir, "spare.zero");
    await unlinkIfExists(join(dir, "spare.tmp"));
    let ready = false;
    try {
      ready = (await stat(readyPath)).size === bytes;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    if (!ready) await unlinkIfExists(readyPath);
    const spare = new SpareSegment(dir, bytes, ready);
    spare.refill();
    return spare;
  }

  /**
   * Renames the spare to `path` and returns true, or returns false when none is ready. Either
   * way a new spare starts filling. The caller writes the segment header and fsyncs the
   * directory: until then a crash leaves an all-zero file, which recovery removes.
   */
  async takeAs(path: string): Promise<boolean> {
    if (!this.ready || this.closed) {
      this.refill();
      return false;
    }
    this.ready = false;
    try {
      await rename(this.readyPath, path);
    } catch {
      // Gone (removed by hand) or the disk fails: make a plain segment; a failing disk is
      // reported by the writes that need it.
      return false;
    } finally {
      this.refill();
    }
    return true;
  }

  /** Waits for a spare being filled; true when one is ready. */
  async whenFilled(): Promise<boolean> {
    await this.filling;
    return this.ready && !this.closed;
  }

  /** Stops filling (the partial file is removed on the next open) and waits for it to stop. */
  async close(): Promise<void> {
    this.closed = true;
    await this.filling;
  }

  private refill(): void {
    if (this.ready || this.filling !== null || this.closed) return;
    this.filling = this.fill()
      // A spare is an optimization: if it cannot be made (a full disk), segments are created
      // empty, the next roll tries again, and a failing disk is reported by the writes that
      // need it. The partial file goes, not to hold space the log may need.
      .catch(() => unlinkIfExists(this.tmpPath).then(() => undefined, () => undefined))
      .finally(() => {
        this.filling = null;
      });
  }

  private async fill(): Promise<void> {
    const handle = await open(this.tmpPath,
      constants.O_CREAT | constants.O_TRUNC | constants.O_WRONLY);
    try {
      let unsynced = 0;
      for (let position = 0; position < this.bytes && !this.closed;) {
        const length = Math.min(chunkBytes, this.bytes - position);
        const { bytesWritten } = await handle.write(zeros, 0, length, position);
        assert(bytesWritten > 0, `wrote 0 bytes at ${position} of ${this.tmpPath}`);
        position += bytesWritten;
        unsynced += bytesWritten;
        if (unsynced >= syncEveryBytes) {
          await handle.datasync();
          unsynced = 0;
        }
      }
      if (this.closed) return;
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(this.tmpPath, this.readyPath);
    this.ready = true;
  }
}
