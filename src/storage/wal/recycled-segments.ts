// Segment files kept for reuse after a prefix deletion (log compaction) instead of unlinked. A
// new segment made from one overwrites blocks that are already allocated and written, so its
// synced writes commit no file-system metadata (as with a zero-filled spare, spare-segment.ts)
// and nothing has to be zero-filled first: once a log is compacted behind its appends, as a
// Raft log is after each snapshot, a new segment costs one write of its bytes, not two.
// PostgreSQL recycles its WAL files, and RocksDB its logs (recycle_log_file_num), for the same
// reasons.
//
// The old records stay on disk after the new segment's end. Its header gets a salt different
// from the old one, and the salt seeds every record checksum (segment.ts), so recovery reads
// an old record as the end of the log, never as an entry. Only whole compacted segments are
// kept: every entry in them precedes the compaction point.
//
// Files: <dir>/recycled-<n> (never a segment name). Order of a reuse: the new header is written
// and synced under the recycled name, then the file is renamed to the segment's name, so a
// segment name never holds a file with another segment's header.

import { constants } from "node:fs";
import { open, readdir, rename } from "node:fs/promises";
import { join } from "node:path";
import { readFully, unlinkIfExists, writeFully } from "../fs-util.js";
import { encodeSegmentHeader, newSalt, segmentHeaderBytes, staleSalt } from "./segment.js";

const namePattern = /^recycled-(\d+)$/;

export class RecycledSegments {
  private constructor(
    private readonly dir: string,
    /** Files held, oldest first. */
    private readonly files: string[],
    private readonly max: number,
    private nextNumber: number,
  ) {}

  /** Keeps up to `max` recycled files found in `dir` (0: removes them all). */
  static async open(dir: string, max: number): Promise<RecycledSegments> {
    const found: { name: string; n: number }[] = [];
    for (const name of await readdir(dir)) {
      const match = namePattern.exec(name);
      if (match !== null) found.push({ name, n: Number(match[1]) });
    }
    found.sort((a, b) => a.n - b.n);
    const files: string[] = [];
    for (const [position, { name }] of found.entries()) {
      const path = join(dir, name);
      if (position < found.length - max) await unlinkIfExists(path);
      else files.push(path);
    }
    const next = (found[found.length - 1]?.n ?? 0) + 1;
    return new RecycledSegments(dir, files, max, next);
  }

  /**
   * Takes the compacted segment at `path` (closed, its entries all before the compaction point
   * already recorded): keeps it when there is room, else unlinks it. The caller fsyncs the
   * directory.
   */
  async keep(path: string): Promise<void> {
    if (this.files.length >= this.max) {
      await unlinkIfExists(path);
      return;
    }
    const kept = join(this.dir, `recycled-${this.nextNumber}`);
    this.nextNumber += 1;
    await rename(path, kept);
    this.files.push(kept);
  }

  /**
   * Makes the oldest held file the segment `path` with base index `baseIndex`: writes its header
   * with a fresh salt, syncs it, renames it. Returns the salt, or null when none is held. The
   * caller fsyncs the directory.
   */
  async takeAs(path: string, baseIndex: number): Promise<number | null> {
    const file = this.files.shift();
    if (file === undefined) return null;
    try {
      const handle = await open(file, constants.O_RDWR);
      let salt: number;
      try {
        salt = newSalt(staleSalt(await readFully(handle, segmentHeaderBytes, 0)));
        await writeFully(handle, encodeSegmentHeader(baseIndex, salt), 0);
        await handle.datasync();
      } finally {
        await handle.close();
      }
      await rename(file, path);
      return salt;
    } catch {
      // Gone (removed by hand) or the disk fails: the caller makes a segment another way, and
      // a failing disk is reported by the writes that need it.
      await unlinkIfExists(file).catch(() => undefined);
      return null;
    }
  }
}
