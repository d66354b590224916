// The pure Raft core: no I/O, no clock, no randomness but the configured Prng.
export * from "./types.js";
export * from "./messages.js";
export * from "./config.js";
export * from "./log-view.js";
export { MemoryLog } from "./memory-log.js";
export { type Prng, Sfc32 } from "./prng.js";
export { Raft, type Proposed } from "./raft.js";
export type { PeerStatus, RaftStatus } from "./status.js";
export { Role, roleName, type Ready, type SoftState } from "./ready.js";
export { ProgressState } from "./progress.js";
export type { ReadState } from "./read-index.js";
