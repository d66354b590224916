// The replicated key-value store's state machines (in memory and on LMDB), commands and results.

export {
  COMMAND_VERSION,
  type KvLimits,
  checkKvLimits,
  decodeCommand,
  defaultKvLimits,
  encodeCommand,
  formatLimits,
} from "./command.js";
export * from "./errors.js";
export { isInt64 } from "./int64.js";
export { compareKeys } from "./keys.js";
export { type KvStore, type OpenKvStateMachineOptions, openKvStateMachine } from "./kv-store.js";
export { KvStateMachine, type KvStateMachineOptions } from "./kv-state-machine.js";
export { LmdbKvStateMachine, type LmdbKvStateMachineOptions } from "./lmdb-state-machine.js";
export { type SessionLimits, defaultSessionLimits } from "./sessions.js";
export { SNAPSHOT_VERSION, defaultChunkBytes } from "./snapshot-format.js";
export * from "./types.js";
