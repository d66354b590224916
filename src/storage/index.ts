// The storage layer's public surface. See README.md in this directory.

export * from "./errors.js";
export * from "./types.js";
export { type StorageOptions, openStorage } from "./open-storage.js";
export { MemoryDisk, MemoryStorage } from "./memory/memory-storage.js";
export { defaultEntryBytesMax, defaultSegmentBytes } from "./options.js";
export { readSnapshot, writeSnapshot } from "./snapshot-io.js";
