// The replicated key-value store's state machine, commands and results.

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
export { compareKeys } from "./keys.js";
export { type KvRange, KvStateMachine, type KvStateMachineOptions } from "./kv-state-machine.js";
export { type SessionLimits, defaultSessionLimits } from "./sessions.js";
export { SNAPSHOT_VERSION, defaultChunkBytes } from "./snapshot-format.js";
export * from "./types.js";
