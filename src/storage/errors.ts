// Operating errors of the storage layer. Each names what is wrong and where (file, offset, index)
// so an operator can act on it without a debugger; none of them is a bug in raft-store.

import type { LogIndex } from "../core/types.js";
import { RaftStoreError } from "../errors.js";

/** An append did not start right after the last entry, or its entries are not contiguous. */
export class LogGapError extends RaftStoreError {
  override readonly code = "LOG_GAP";
  constructor(
    readonly expectedIndex: LogIndex,
    readonly actualIndex: LogIndex,
  ) {
    super(`log gap: expected entry ${expectedIndex}, got ${actualIndex}`);
  }
}

/** The requested index lies at or before the compaction point: it was deleted by a snapshot. */
export class LogCompactedError extends RaftStoreError {
  override readonly code = "LOG_COMPACTED";
  constructor(
    readonly index: LogIndex,
    readonly firstIndex: LogIndex,
  ) {
    super(`log index ${index} is compacted (first index ${firstIndex})`);
  }
}

/** The requested index lies after the last entry. */
export class LogUnavailableError extends RaftStoreError {
  override readonly code = "LOG_UNAVAILABLE";
  constructor(
    readonly index: LogIndex,
    readonly lastIndex: LogIndex,
  ) {
    super(`log index ${index} is past the last index ${lastIndex}`);
  }
}

/** An entry's payload is larger than the configured `entryBytesMax`. Nothing was written. */
export class EntryTooLargeError extends RaftStoreError {
  override readonly code = "ENTRY_TOO_LARGE";
  constructor(
    readonly index: LogIndex,
    readonly bytes: number,
    readonly bytesMax: number,
  ) {
    super(`entry ${index} has ${bytes} bytes, more than entryBytesMax ${bytesMax}`);
  }
}

/**
 * The log on disk is damaged somewhere other than a torn tail: a record in the middle fails
 * its checksum, or the records do not follow each other. The store refuses to open rather
 * than serve a log with a hole in it; the node must be repaired from its peers.
 */
export class CorruptLogError extends RaftStoreError {
  override readonly code = "CORRUPT_LOG";
  constructor(
    readonly file: string,
    readonly offset: number | null,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    const where = offset === null ? file : `${file} at offset ${offset}`;
    super(`corrupt log in ${where}: ${reason}`, options);
  }
}

/** The stable state (term, vote, commit, ids) or a small metadata file cannot be trusted. */
export class CorruptStateError extends RaftStoreError {
  override readonly code = "CORRUPT_STATE";
  constructor(
    readonly file: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`corrupt state in ${file}: ${reason}`, options);
  }
}

/** A snapshot file is truncated, has a bad checksum, or its metadata does not parse. */
export class CorruptSnapshotError extends RaftStoreError {
  override readonly code = "CORRUPT_SNAPSHOT";
  constructor(
    readonly file: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`corrupt snapshot ${file}: ${reason}`, options);
  }
}

/** The store was closed (or crashed, for the memory backend); open it again. */
export class StorageClosedError extends RaftStoreError {
  override readonly code = "STORAGE_CLOSED";
  constructor(readonly what: string) {
    super(`${what} is closed`);
  }
}

/**
 * A write or fsync failed. The store stops: after a failed fsync the page cache can no longer
 * be trusted (fsyncgate), so retrying on the same file could report success for lost data.
 * The message ends with what the system reported (a full disk, an I/O error), so that an
 * operator reading the log line knows what to fix; every later call on the stopped store gives
 * the same first failure.
 */
export class StorageFailedError extends RaftStoreError {
  override readonly code = "STORAGE_FAILED";
  constructor(
    readonly what: string,
    options?: { cause?: unknown },
  ) {
    const cause = failureCause(options?.cause);
    super(`${what} failed and the store has stopped${reasonOf(cause)}`,
      cause === undefined ? undefined : { cause });
  }
}

function reasonOf(cause: unknown): string {
  if (cause === undefined) return "";
  return `: ${cause instanceof Error ? cause.message : String(cause)}`;
}

/** What a store stopped on: the system's error beneath a StorageFailedError, else `error`. */
function failureCause(error: unknown): unknown {
  return error instanceof StorageFailedError ? error.cause : error;
}

/** A snapshot writer was used after it was committed or aborted. */
export class SnapshotFinishedError extends RaftStoreError {
  override readonly code = "SNAPSHOT_FINISHED";
  constructor(readonly state: "committed" | "aborted") {
    super(`snapshot writer already ${state}`);
  }
}
