// What a command handler sees: the APIs, the server's shared settings and the state of the
// one connection it runs on.

import type { Logger } from "../../logger.js";
import type { ReadConsistency } from "../../node/ports.js";
import type { AdminApi, KvApi } from "../api.js";
import type { Reply, RespProtocol } from "./reply.js";
import type { ScanCursorTable } from "./scan-cursor.js";

/** What INFO reports about the process (supplied by the server). */
export interface RespServerInfo {
  /** raft-store's version. */
  readonly version: string;
  /** When the process started (Unix milliseconds). */
  readonly startedAtMs: number;
}

/** Mutable per-connection state (Redis's client struct). */
export interface ConnectionState {
  readonly id: number;
  readonly remoteAddress: string;
  readonly localAddress: string;
  readonly createdAtMs: number;
  lastCommandAtMs: number;
  name: string | null;
  libName: string | null;
  libVersion: string | null;
  protocol: RespProtocol;
  authenticated: boolean;
  /** How this connection's reads are served; RAFT.CONSISTENCY or READONLY change it. */
  consistency: ReadConsistency;
  /** Set by QUIT: the connection closes once this reply is written. */
  closeAfterReply: boolean;
  /** Name of the command running now (CLIENT INFO's `cmd`). */
  lastCommand: string;
}

export interface RespLimits {
  /** KEYS refuses (-ERR) rather than build a reply with more keys than this. */
  readonly keysMax: number;
  /** SCAN's COUNT is capped at this (a RangeRequest limit). */
  readonly scanCountMax: number;
  /** Page size for KEYS and DBSIZE listings. */
  readonly listPageKeys: number;
  /** SCAN cursors held by the server; the least recently used beyond this are evicted. */
  readonly scanCursorsMax: number;
  /** UTF-8 bytes of the keys SCAN cursors resume after; beyond this, eviction as above. */
  readonly scanCursorKeyBytesMax: number;
}

export const defaultRespLimits: RespLimits = {
  keysMax: 1_000_000,
  scanCountMax: 10_000,
  listPageKeys: 1000,
  scanCursorsMax: 100_000,
  scanCursorKeyBytesMax: 64 * 1024 * 1024,
};

/** Counts requests (the server's Metrics fits). */
export interface RespMetrics {
  request(api: "resp", outcome: "ok" | "error"): void;
}

/** Shared by every connection of one server. */
export interface ServerContext {
  readonly kv: KvApi;
  readonly admin: AdminApi;
  readonly logger: Logger;
  /** The password clients must AUTH with, or null when none is required. */
  readonly token: string | null;
  /** Wall clock (Unix milliseconds) for EXAT/PXAT/EXPIREAT and TTL. */
  readonly now: () => number;
  readonly serverInfo: () => RespServerInfo;
  /** Every open connection (CLIENT LIST, INFO clients). */
  readonly connections: () => readonly ConnectionState[];
  readonly maxClients: number;
  readonly limits: RespLimits;
  readonly metrics: RespMetrics | null;
  /** Where each SCAN in progress resumes (scan-cursor.ts), shared by every connection. */
  readonly scanCursors: ScanCursorTable;
}

export interface CommandContext extends ServerContext {
  readonly connection: ConnectionState;
}

/** Argument 0 is the command name as sent. */
export type CommandHandler = (
  context: CommandContext,
  args: readonly Buffer[],
) => Promise<Reply> | Reply;

export interface CommandSpec {
  /** Lowercase, as Redis names it in errors ("get", "raft.node"). */
  readonly name: string;
  /** Redis's arity: n exactly n arguments (name included); -n at least n. */
  readonly arity: number;
  /** COMMAND INFO flags ("write", "readonly", "fast", "no-auth", ...). */
  readonly flags: readonly string[];
  /** Positions of the keys (COMMAND INFO): first, last (-1: the last argument), step. */
  readonly keys: readonly [number, number, number];
  readonly handler: CommandHandler;
}
