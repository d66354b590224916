// Options of the TCP transport, their defaults and their validation. Every queue and wait has a
// limit here; createTcpTransport refuses an inconsistent set with a ConfigError up front.

import { isIP } from "node:net";
import { createSecureContext } from "node:tls";
import type { NodeId } from "../../core/types.js";
import { ConfigError } from "../../errors.js";
import { InsecureListenError } from "../errors.js";
import { type TransportLogger, silentLogger } from "../logger.js";
import { frameBytesMaxDefault, frameHeaderBytes } from "./frame.js";
import { clusterIdBytesMax } from "./handshake.js";

/** PEM strings or buffers; both sides present a certificate signed by `ca` (mutual TLS). */
export interface TlsOptions {
  readonly ca: string | Buffer;
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
}

export interface TcpTransportOptions {
  readonly localId: NodeId;
  /** Peers of another cluster id are refused in the handshake. At most 255 UTF-8 bytes. */
  readonly clusterId: string;
  /** "host:port" to listen on (port 0 picks a free port); omit to only dial out. */
  readonly listen?: string;
  /** The initial peers and their "host:port" addresses. */
  readonly peers?: ReadonlyMap<NodeId, string>;
  /** Largest frame payload sent or accepted. Default 16 MiB. */
  readonly frameBytesMax?: number;
  /** Per-peer queue bounds; past either, new messages are dropped. Default 4096, 32 MiB. */
  readonly queueMessagesMax?: number;
  readonly queueBytesMax?: number;
  /** Time for a connection to complete TLS and the hello exchange. Default 5000 ms. */
  readonly handshakeTimeoutMs?: number;
  /** Reconnect delay: starts at min, doubles per failure up to max, with jitter. 50, 2000 ms. */
  readonly reconnectDelayMinMs?: number;
  readonly reconnectDelayMaxMs?: number;
  /** A connection whose writes stay blocked this long is closed and redialled. Default 20 s. */
  readonly writeStallTimeoutMs?: number;
  /** Largest number of open inbound connections (handshaking or not). Default 256. */
  readonly inboundConnectionsMax?: number;
  /** Accept connections from senders not in the peer set. Default false (peers are the list). */
  readonly acceptUnknownPeers?: boolean;
  /** Largest snapshot stream accepted or sent, in data bytes. Default 64 GiB. */
  readonly snapshotBytesMax?: number;
  /** Data bytes per snapshot data frame sent; at most frameBytesMax. Default 1 MiB. */
  readonly snapshotChunkBytes?: number;
  /** A snapshot stream without progress (no bytes, no drain, no ack) this long fails. 30 s. */
  readonly snapshotIdleTimeoutMs?: number;
  /** Snapshot streams received at once (at most one per sender). Default 4. */
  readonly snapshotsInboundMax?: number;
  /** Mutual TLS on every connection (snapshot streams too). Default none. */
  readonly tls?: TlsOptions;
  /** Allows listening on a non-loopback address without TLS. Default false. */
  readonly insecure?: boolean;
  readonly logger?: TransportLogger;
}

export interface ResolvedOptions {
  readonly localId: NodeId;
  readonly clusterId: string;
  readonly listen: Address | null;
  readonly peers: ReadonlyMap<NodeId, string>;
  readonly frameBytesMax: number;
  readonly queueMessagesMax: number;
  readonly queueBytesMax: number;
  readonly handshakeTimeoutMs: number;
  readonly reconnectDelayMinMs: number;
  readonly reconnectDelayMaxMs: number;
  readonly writeStallTimeoutMs: number;
  readonly inboundConnectionsMax: number;
  readonly acceptUnknownPeers: boolean;
  readonly snapshotBytesMax: number;
  readonly snapshotChunkBytes: number;
  readonly snapshotIdleTimeoutMs: number;
  readonly snapshotsInboundMax: number;
  readonly tls: TlsOptions | null;
  readonly logger: TransportLogger;
}

export interface Address {
  readonly host: string;
  readonly port: number;
}

const mebibyte = 1024 * 1024;

export function resolveOptions(o: TcpTransportOptions): ResolvedOptions {
  const frameBytesMax = o.frameBytesMax ?? frameBytesMaxDefault;
  const r: ResolvedOptions = {
    localId: o.localId,
    clusterId: o.clusterId,
    listen: o.listen === undefined ? null : parseAddress(o.listen),
    peers: new Map(o.peers ?? []),
    frameBytesMax,
    queueMessagesMax: o.queueMessagesMax ?? 4096,
    queueBytesMax: o.queueBytesMax ?? 32 * 1024 * 1024,
    handshakeTimeoutMs: o.handshakeTimeoutMs ?? 5000,
    reconnectDelayMinMs: o.reconnectDelayMinMs ?? 50,
    reconnectDelayMaxMs: o.reconnectDelayMaxMs ?? 2000,
    writeStallTimeoutMs: o.writeStallTimeoutMs ?? 20_000,
    inboundConnectionsMax: o.inboundConnectionsMax ?? 256,
    acceptUnknownPeers: o.acceptUnknownPeers ?? false,
    snapshotBytesMax: o.snapshotBytesMax ?? 64 * 1024 * mebibyte,
    snapshotChunkBytes: o.snapshotChunkBytes ?? Math.min(mebibyte, frameBytesMax),
    snapshotIdleTimeoutMs: o.snapshotIdleTimeoutMs ?? 30_000,
    snapshotsInboundMax: o.snapshotsInboundMax ?? 4,
    tls: o.tls ?? null,
    logger: o.logger ?? silentLogger,
  };
  validate(r);
  for (const address of r.peers.values()) parseAddress(address);
  if (r.tls !== null) checkTls(r.tls);
  if (r.listen !== null && r.tls === null && o.insecure !== true && !isLoopback(r.listen.host)) {
    throw new InsecureListenError(formatAddress(r.listen));
  }
  return r;
}

function validate(r: ResolvedOptions): void {
  const ids = [r.localId, ...r.peers.keys()];
  if (!ids.every((id) => Number.isSafeInteger(id) && id > 0)) {
    throw new ConfigError(`node ids must be positive integers: ${ids.join(", ")}`);
  }
  if (r.peers.has(r.localId)) throw new ConfigError(`peers include the local id ${r.localId}`);
  const clusterIdBytes = Buffer.byteLength(r.clusterId, "utf8");
  if (clusterIdBytes === 0 || clusterIdBytes > clusterIdBytesMax) {
    const bounds = `1..${clusterIdBytesMax}`;
    throw new ConfigError(`clusterId must have ${bounds} UTF-8 bytes, has ${clusterIdBytes}`);
  }
  positive("frameBytesMax", r.frameBytesMax, 0xffff_ffff);
  positive("queueMessagesMax", r.queueMessagesMax);
  positive("queueBytesMax", r.queueBytesMax);
  positive("handshakeTimeoutMs", r.handshakeTimeoutMs);
  positive("reconnectDelayMinMs", r.reconnectDelayMinMs);
  positive("reconnectDelayMaxMs", r.reconnectDelayMaxMs);
  positive("writeStallTimeoutMs", r.writeStallTimeoutMs);
  positive("inboundConnectionsMax", r.inboundConnectionsMax);
  positive("snapshotBytesMax", r.snapshotBytesMax);
  positive("snapshotChunkBytes", r.snapshotChunkBytes, r.frameBytesMax);
  positive("snapshotIdleTimeoutMs", r.snapshotIdleTimeoutMs);
  positive("snapshotsInboundMax", r.snapshotsInboundMax);
  if (r.queueBytesMax < r.frameBytesMax + frameHeaderBytes) {
    throw new ConfigError(
      `queueBytesMax ${r.queueBytesMax} cannot hold one frame of frameBytesMax ${r.frameBytesMax}`,
    );
  }
  if (r.reconnectDelayMaxMs < r.reconnectDelayMinMs) {
    throw new ConfigError(
      `reconnectDelayMaxMs ${r.reconnectDelayMaxMs} < reconnectDelayMinMs ${r.reconnectDelayMinMs}`,
    );
  }
}

/** Loads the PEMs once so that a bad key or certificate fails here, not on the first dial. */
function checkTls(tls: TlsOptions): void {
  try {
    createSecureContext({ ca: tls.ca, cert: tls.cert, key: tls.key });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`tls options are not a usable CA, certificate and key: ${reason}`, {
      cause: error,
    });
  }
}

function positive(name: string, value: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isSafeInteger(value) || value <= 0 || value > max) {
    throw new ConfigError(`${name} must be an integer in 1..${max}, is ${value}`);
  }
}

/** Parses "host:port" or "[ipv6]:port"; port 0 means any free port (for listening). */
export function parseAddress(address: string): Address {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(address);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (host === undefined || !(port >= 0 && port <= 65535)) {
    throw new ConfigError(`bad address "${address}": expected host:port or [ipv6]:port`);
  }
  if (match?.[1] !== undefined && isIP(host) !== 6) {
    throw new ConfigError(`bad address "${address}": ${host} is not an IPv6 address`);
  }
  return { host, port };
}

export function formatAddress(a: Address): string {
  return isIP(a.host) === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

export function isLoopback(host: string): boolean {
  if (host === "localhost" || host === "::1") return true;
  return isIP(host) === 4 && host.startsWith("127.");
}
