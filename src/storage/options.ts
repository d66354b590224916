// Defaults and limits shared by the backends.

/** The largest entry payload a store accepts (EntryTooLargeError beyond it). */
export const defaultEntryBytesMax = 64 * 1024 * 1024;

/** The nominal size of a WAL segment; the batch that crosses it is written whole. */
export const defaultSegmentBytes = 64 * 1024 * 1024;
