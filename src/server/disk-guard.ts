// Stops a member before a disk under its data fills up. A full disk under the Raft log is
// survived on its own: the write that fails stops the node with the system's reason
// (test/e2e/disk-full.test.ts). Under the key-value state it is not: LMDB writes that state
// through its memory map, and a page the file system cannot allocate is a SIGBUS, which kills
// the process without a word in its log. So the server checks the free space of each directory
// holding its data every second, halts the node with DiskNearlyFullError (exit code 2 from the
// command line) once one has less than --min-free-mib left, and refuses to start on such a disk.
// The node loses nothing by stopping: what it acknowledged is in its log, and what it applied is
// applied again on restart. The free space is also a metric (raft_store_disk_free_bytes).

import { RaftStoreError } from "../errors.js";
import { formatMib, freeBytesAt } from "../storage/fs-util.js";

/** A directory holding data is on a file system with less free space than the minimum. */
export class DiskNearlyFullError extends RaftStoreError {
  override readonly code = "DISK_NEARLY_FULL";
  constructor(
    readonly path: string,
    readonly freeBytes: number,
    readonly minFreeBytes: number,
  ) {
    super(`disk nearly full: ${formatMib(freeBytes)} free under ${path}, less than the ` +
      `${formatMib(minFreeBytes)} --min-free-mib asks for; free space there, then restart`);
  }
}

export interface DiskGuardOptions {
  /** Directories whose file systems are watched (each checked, even when they share one). */
  readonly paths: readonly string[];
  readonly minFreeBytes: number;
  /** Called once, with the first directory found short of space; the guard then stops. */
  readonly onLow: (error: DiskNearlyFullError) => void;
  /** Called when a directory's free space cannot be read (the check goes on at the next tick). */
  readonly onError: (path: string, error: unknown) => void;
  /** Called with each reading, for the metric. */
  readonly onReading?: (path: string, freeBytes: number) => void;
  readonly intervalMs?: number;
  /** How free space is read (tests give their own). */
  readonly freeBytes?: (path: string) => Promise<number>;
}

export class DiskGuard {
  private timer: NodeJS.Timeout | null = null;
  private checking = false;
  private done = false;

  constructor(private readonly o: DiskGuardOptions) {}

  /**
   * Reads each directory's free space; returns the error for the first one short of space, or
   * null. A directory whose space cannot be read is reported to onError and skipped.
   */
  async check(): Promise<DiskNearlyFullError | null> {
    const read = this.o.freeBytes ?? freeBytesAt;
    for (const path of this.o.paths) {
      let free: number;
      try {
        free = await read(path);
      } catch (error) {
        this.o.onError(path, error);
        continue;
      }
      this.o.onReading?.(path, free);
      if (free < this.o.minFreeBytes) {
        return new DiskNearlyFullError(path, free, this.o.minFreeBytes);
      }
    }
    return null;
  }

  /** Checks every intervalMs (default 1 s) until a directory is short of space or stop(). */
  start(): void {
    if (this.timer !== null || this.done) return;
    this.timer = setInterval(() => void this.tick(), this.o.intervalMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    this.done = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** One check (none while one is running): what start() runs every interval. */
  async tick(): Promise<void> {
    if (this.checking || this.done) return;
    this.checking = true;
    try {
      const low = await this.check();
      if (low !== null && !this.done) {
        this.stop();
        this.o.onLow(low);
      }
    } finally {
      this.checking = false;
    }
  }
}
