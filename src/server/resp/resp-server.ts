// raft-store's Redis-protocol (RESP2/RESP3) front end over KvApi and AdminApi: redis-cli and
// Redis clients (ioredis, redis-py, go-redis) speak to it as to a standalone Redis. It only
// translates; consistency, forwarding and limits are the KvApi's. See connection.ts for how
// a connection orders its commands and applies backpressure, commands.ts for the commands.
//
// Reads are linearizable by default; `RAFT.CONSISTENCY lease|stale` (or READONLY, which
// means stale) changes that for one connection.

import net from "node:net";
import type { AddressInfo } from "node:net";
import tls from "node:tls";
import type { Logger } from "../../logger.js";
import { raftStoreVersion } from "../../version.js";
import type { AdminApi, KvApi } from "../api.js";
import { type ConnectionLimits, RespConnection } from "./connection.js";
import {
  type ConnectionState,
  defaultRespLimits,
  type RespLimits,
  type RespMetrics,
  type RespServerInfo,
  type ServerContext,
} from "./context.js";
import { defaultRespParserLimits } from "./parser.js";
import { randomFirstScanCursorId, ScanCursorTable } from "./scan-cursor.js";

export type { RespMetrics, RespServerInfo } from "./context.js";

export interface RespServerLimits extends ConnectionLimits, RespLimits {}

export const defaultRespServerLimits: RespServerLimits = {
  ...defaultRespParserLimits,
  ...defaultRespLimits,
  pendingCommandsMax: 1024,
  concurrentReadsMax: 64,
  writeBufferBytesMax: 4 * 1024 * 1024,
  flushBytes: 64 * 1024,
  lingerMs: 5000,
};

export interface RespServerOptions {
  readonly kv: KvApi;
  readonly admin: AdminApi;
  readonly logger: Logger;
  /** When set, clients must AUTH (or HELLO ... AUTH) with it before any other command. */
  readonly token?: string;
  /** When set, clients connect over TLS with these certificates. */
  readonly tls?: tls.SecureContextOptions;
  /** Connections beyond this are refused with -ERR (default 10000). */
  readonly maxClients?: number;
  /** For INFO (default: the version in raft-store's package.json, started now). */
  readonly serverInfo?: () => RespServerInfo;
  /** Counts each command as ok or error. */
  readonly metrics?: RespMetrics;
  /** Wall clock for expiry times (default Date.now). */
  readonly now?: () => number;
  readonly limits?: Partial<RespServerLimits>;
}

export interface RespServer {
  listen(host: string, port: number): Promise<AddressInfo>;
  /** Stops accepting and closes every connection (replies in flight are dropped). */
  close(): Promise<void>;
  /** Open client connections. */
  readonly connections: number;
}

export function createRespServer(options: RespServerOptions): RespServer {
  return new RespServerImpl(options);
}

class RespServerImpl implements RespServer {
  private readonly limits: RespServerLimits;
  private readonly context: ServerContext;
  private readonly server: net.Server;
  private readonly open = new Set<RespConnection>();
  /** Every socket, refused ones included, so that close() can end them all. */
  private readonly sockets = new Set<net.Socket>();
  private nextId = 1;

  constructor(options: RespServerOptions) {
    this.limits = { ...defaultRespServerLimits, ...options.limits };
    this.context = {
      kv: options.kv,
      admin: options.admin,
      logger: options.logger,
      token: options.token ?? null,
      now: options.now ?? Date.now,
      serverInfo: options.serverInfo ?? defaultServerInfo(Date.now()),
      connections: (): readonly ConnectionState[] => [...this.open].map((c) => c.state),
      maxClients: options.maxClients ?? 10_000,
      limits: this.limits,
      metrics: options.metrics ?? null,
      scanCursors: new ScanCursorTable(
        {
          cursorsMax: this.limits.scanCursorsMax,
          keyBytesMax: this.limits.scanCursorKeyBytesMax,
        },
        randomFirstScanCursorId(),
      ),
    };
    const serverOptions = { allowHalfOpen: true };
    const accept = (socket: net.Socket): void => this.accept(socket);
    this.server =
      options.tls === undefined
        ? net.createServer(serverOptions, accept)
        : tls.createServer({ ...options.tls, ...serverOptions }, accept);
    this.server.on("tlsClientError", (error: Error) => {
      options.logger.debug("resp TLS handshake failed", { error: error.message });
    });
  }

  get connections(): number {
    return this.open.size;
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return listen(this.server, host, port);
  }

  close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const connection of this.open) connection.destroy();
    for (const socket of this.sockets) socket.destroy();
    this.open.clear();
    return closed;
  }

  private accept(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on("close", () => this.sockets.delete(socket));
    // A socket error (reset, TLS failure) ends that connection only; it is never thrown.
    socket.on("error", (error) => {
      this.context.logger.debug("resp socket error", { error: error.message });
    });
    if (this.open.size >= this.context.maxClients) {
      socket.end("-ERR max number of clients reached\r\n");
      // Half-open sockets are allowed: do not wait forever for this client's end.
      setTimeout(() => socket.destroy(), this.limits.lingerMs).unref();
      return;
    }
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    const connection = new RespConnection(socket, this.context, this.nextId++, this.limits);
    this.open.add(connection);
    socket.on("close", () => this.open.delete(connection));
  }
}

function defaultServerInfo(startedAtMs: number): () => RespServerInfo {
  const info = { version: raftStoreVersion, startedAtMs };
  return () => info;
}

function listen(server: net.Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const failed = (error: Error): void => reject(error);
    server.once("error", failed);
    server.listen({ host, port }, () => {
      server.off("error", failed);
      const address = server.address();
      if (address === null || typeof address === "string") {
        reject(new Error(`unexpected listen address ${String(address)}`));
        return;
      }
      resolve(address);
    });
  });
}
