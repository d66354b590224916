// raft-store's public API: embed a Raft node in a Node.js program.

export { createRaftNode, RaftNode, type RaftNodeEvents } from "./node/raft-node.js";
export type { RaftNodeOptions, RaftTuning } from "./node/options.js";
export {
  type AppliedEntry,
  type Clock,
  ReadConsistency,
  type StateMachine,
  systemClock,
} from "./node/ports.js";
export type { NodeStatus, PeerStatus } from "./node/status.js";
export { InconsistentStateError } from "./node/durable-log.js";
export { openStorage, type StorageOptions } from "./storage/open-storage.js";
export type { Storage, StorageKind } from "./storage/types.js";
export type { IncomingSnapshot, SnapshotOffer, Transport } from "./transport/transport.js";
export { SnapshotTransferError } from "./transport/errors.js";
export type { SnapshotPolicy } from "./node/snapshots.js";
export {
  ConfChangeError,
  type ConfChangeRequest,
  type ConfState,
} from "./core/conf-change.js";
export { MemoryNetwork } from "./transport/memory-transport.js";
export { createTcpTransport } from "./transport/tcp/tcp-transport.js";
export type { TcpTransportOptions, TlsOptions } from "./transport/tcp/options.js";
export { type Logger, jsonLogger, silentLogger } from "./logger.js";
export * from "./errors.js";
export {
  type Configuration,
  type Entry,
  type HardState,
  type LogIndex,
  type NodeId,
  type SnapshotMeta,
  type Term,
  nodeId,
} from "./core/types.js";
