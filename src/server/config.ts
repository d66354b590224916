// The server's configuration: `raft-store serve` flags (CONTRACTS.md), an optional JSON config
// file with the same names, defaults and validation. Every mistake is a ConfigError naming the
// flag, before anything is opened.

import { readFileSync } from "node:fs";
import { isIP } from "node:net";
import { parseArgs } from "node:util";
import { ConfigError } from "../errors.js";
import type { LogLevel } from "../logger.js";
import { type StorageKind, storageKinds } from "../storage/types.js";
import { type WalWriteMode, walWriteModes } from "../storage/wal/wal-log-store.js";

export type StateKind = "lmdb" | "memory";

export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

export interface ServerConfig {
  readonly id: number;
  readonly clusterId: string;
  readonly dataDir: string;
  /** Where the Raft transport listens. */
  readonly peer: string;
  /** The peer address other members dial (default `peer`; differs behind a proxy or NAT). */
  readonly advertisePeer: string;
  readonly http: string | null;
  readonly resp: string | null;
  /** Founding members (id → peer address); empty when joining or restarting. */
  readonly initialCluster: ReadonlyMap<number, string>;
  /** The HTTP address of a running member to join through. */
  readonly join: string | null;
  readonly storage: StorageKind;
  /** How the WAL writes (storage wal only): on the event loop's thread or the thread pool. */
  readonly walWriteMode: WalWriteMode;
  /** Keep the next WAL segment ready, zero-filled or recycled (storage wal only). */
  readonly walPreallocate: boolean;
  readonly state: StateKind;
  readonly insecure: boolean;
  readonly tls: TlsFiles | null;
  /** Clients must present it (HTTP bearer, RESP AUTH); members forward it. */
  readonly token: string | null;
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly logLevel: LogLevel;
  readonly snapshotThreshold: number;
  /** How long a follower may hold committed commands back to apply them in one batch. */
  readonly followerApplyDelayMs: number;
  /** The leader starts its next turn while its own log write runs (RaftNode option). */
  readonly pipelineLeaderWrites: boolean;
  /** Halt the node when a disk under its data has less free space than this (0: never). */
  readonly minFreeBytes: number;
  /** Test-only: serve linearizable reads from the local state, without ReadIndex. */
  readonly unsafeLocalReads: boolean;
  /** Test-only: a lease of this many ms, whatever the election timeout (null: the safe one). */
  readonly unsafeLeaseMs: number | null;
}

const flags = {
  config: { type: "string" },
  id: { type: "string" },
  "cluster-id": { type: "string" },
  data: { type: "string" },
  peer: { type: "string" },
  "advertise-peer": { type: "string" },
  http: { type: "string" },
  resp: { type: "string" },
  "initial-cluster": { type: "string" },
  join: { type: "string" },
  storage: { type: "string" },
  "wal-write-mode": { type: "string" },
  "wal-preallocate": { type: "string" },
  state: { type: "string" },
  insecure: { type: "boolean" },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "tls-ca": { type: "string" },
  token: { type: "string" },
  "tick-ms": { type: "string" },
  "election-ticks": { type: "string" },
  "log-level": { type: "string" },
  "snapshot-threshold": { type: "string" },
  "follower-apply-delay-ms": { type: "string" },
  "pipeline-leader-writes": { type: "string" },
  "min-free-mib": { type: "string" },
  "unsafe-local-reads": { type: "boolean" },
  "unsafe-lease-ms": { type: "string" },
} as const;

export const serveUsage = `raft-store serve --id <id> --data <dir> --peer <host:port>
  [--http <host:port>] [--resp <host:port>] [--advertise-peer <host:port>]
  [--initial-cluster <id>=<host:port>,...]   bootstrap a new cluster (every founder the same list)
  [--join <http host:port>]                  join a running cluster through any member
  [--storage wal|lmdb|level|memory]          Raft log backend (default wal)
  [--wal-write-mode auto|inline|thread]      where the WAL writes (default auto, see the README)
  [--wal-preallocate on|off]                 next WAL segment ready ahead, zero-filled or
                                             reused from compacted ones (default on)
  [--state lmdb|memory]                      key-value state (default lmdb)
  [--cluster-id <name>] [--token <secret>] [--log-level error|warn|info|debug]
  [--tls-cert f --tls-key f --tls-ca f]      TLS for HTTP and RESP, mutual TLS between members
  [--insecure]                               allow plaintext on non-loopback addresses
  [--tick-ms 100] [--election-ticks 10] [--snapshot-threshold 100000]
  [--follower-apply-delay-ms 5]              followers apply in batches, this long at most
  [--pipeline-leader-writes on|off]          leader's turns go on while its log write runs
                                             (default on)
  [--min-free-mib 64]                        stop (exit code 2) when a disk holding the data
                                             has less free space than this; 0: never
  [--config <file.json>]                     the same settings as a JSON object`;

type Raw = Record<string, string | boolean | undefined>;

/** Parses `serve`'s arguments; flags override the config file's values. */
export function parseServeArgs(argv: readonly string[]): ServerConfig {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: flags, strict: true, allowPositionals: false });
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}\n\n${serveUsage}`);
  }
  const values = parsed.values as Raw;
  const file = typeof values.config === "string" ? readConfigFile(values.config) : {};
  return resolveConfig({ ...file, ...definedOnly(values) });
}

function definedOnly(values: Raw): Raw {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
}

function readConfigFile(path: string): Raw {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new ConfigError(`config file ${path}: ${(error as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`config file ${path}: expected a JSON object`);
  }
  const out: Raw = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (!(key in flags) || key === "config")
      throw new ConfigError(`config file ${path}: unknown setting "${key}"`);
    if (typeof value === "number") out[key] = String(value);
    else if (typeof value === "string" || typeof value === "boolean") out[key] = value;
    else throw new ConfigError(`config file ${path}: "${key}" must be a string, number or boolean`);
  }
  return out;
}

/** Node ids are positive integers; "n3" is accepted for 3. */
export function parseNodeId(text: string, what = "id"): number {
  const match = /^n?(\d{1,15})$/.exec(text.trim());
  const id = match === null ? NaN : Number(match[1]);
  if (!Number.isSafeInteger(id) || id <= 0) {
    throw new ConfigError(`${what} "${text}" is not a positive integer (like 1 or n1)`);
  }
  return id;
}

/** "host:port" with a port in 0..65535 (IPv6 hosts in brackets). */
export function parseHostPort(text: string, what: string): { host: string; port: number } {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:\s]+):(\d{1,5})$/.exec(text);
  const port = match === null ? NaN : Number(match[2]);
  if (match === null || !(port >= 0 && port <= 65535)) {
    throw new ConfigError(`${what} "${text}" is not host:port`);
  }
  const host = (match[1] ?? "").replace(/^\[|\]$/g, "");
  return { host, port };
}

export function isLoopback(host: string): boolean {
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return host === "::1";
}

function parseInitialCluster(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const part of text
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "")) {
    const eq = part.indexOf("=");
    if (eq <= 0) throw new ConfigError(`--initial-cluster: "${part}" is not id=host:port`);
    const id = parseNodeId(part.slice(0, eq), "--initial-cluster id");
    const address = part.slice(eq + 1);
    parseHostPort(address, `--initial-cluster address of ${id}`);
    if (out.has(id)) throw new ConfigError(`--initial-cluster names ${id} twice`);
    out.set(id, address);
  }
  return out;
}

function integer(raw: Raw, name: string, fallback: number, min: number): number {
  const value = raw[name];
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min)
    throw new ConfigError(`--${name} must be an integer >= ${min}, got "${String(value)}"`);
  return n;
}

function text(raw: Raw, name: string): string | null {
  const value = raw[name];
  if (value === undefined) return null;
  if (typeof value !== "string" || value === "") throw new ConfigError(`--${name} needs a value`);
  return value;
}

function oneOf<T extends string>(raw: Raw, name: string, allowed: readonly T[], fallback: T): T {
  const value = raw[name] ?? fallback;
  if (!(allowed as readonly unknown[]).includes(value)) {
    throw new ConfigError(`--${name} "${String(value)}": use one of ${allowed.join(", ")}`);
  }
  return value as T;
}

function tlsFiles(raw: Raw): TlsFiles | null {
  const cert = text(raw, "tls-cert");
  const key = text(raw, "tls-key");
  const ca = text(raw, "tls-ca");
  if (cert === null && key === null && ca === null) return null;
  if (cert === null || key === null || ca === null) {
    throw new ConfigError("TLS needs all of --tls-cert, --tls-key and --tls-ca");
  }
  return { cert, key, ca };
}

export function resolveConfig(raw: Raw): ServerConfig {
  const idText = text(raw, "id");
  const dataDir = text(raw, "data");
  const peer = text(raw, "peer");
  if (idText === null || dataDir === null || peer === null) {
    throw new ConfigError(`--id, --data and --peer are required\n\n${serveUsage}`);
  }
  const config: ServerConfig = {
    id: parseNodeId(idText),
    clusterId: text(raw, "cluster-id") ?? "raft-store",
    dataDir,
    peer,
    advertisePeer: text(raw, "advertise-peer") ?? peer,
    http: text(raw, "http"),
    resp: text(raw, "resp"),
    initialCluster: parseInitialCluster(text(raw, "initial-cluster") ?? ""),
    join: text(raw, "join"),
    storage: oneOf(raw, "storage", storageKinds, "wal"),
    walWriteMode: oneOf(raw, "wal-write-mode", walWriteModes, "auto"),
    walPreallocate: oneOf(raw, "wal-preallocate", ["on", "off"], "on") === "on",
    state: oneOf<StateKind>(raw, "state", ["lmdb", "memory"], "lmdb"),
    insecure: raw.insecure === true,
    tls: tlsFiles(raw),
    token: text(raw, "token"),
    tickMs: integer(raw, "tick-ms", 100, 1),
    electionTicks: integer(raw, "election-ticks", 10, 2),
    logLevel: oneOf<LogLevel>(raw, "log-level", ["error", "warn", "info", "debug"], "info"),
    snapshotThreshold: integer(raw, "snapshot-threshold", 100_000, 0),
    followerApplyDelayMs: integer(raw, "follower-apply-delay-ms", 5, 0),
    pipelineLeaderWrites: oneOf(raw, "pipeline-leader-writes", ["on", "off"], "on") === "on",
    minFreeBytes: integer(raw, "min-free-mib", 64, 0) * 2 ** 20,
    unsafeLocalReads: raw["unsafe-local-reads"] === true,
    unsafeLeaseMs: raw["unsafe-lease-ms"] === undefined
      ? null
      : integer(raw, "unsafe-lease-ms", 0, 1),
  };
  validate(config);
  return config;
}

function validate(c: ServerConfig): void {
  const addresses: [string, string | null][] = [
    ["--peer", c.peer],
    ["--http", c.http],
    ["--resp", c.resp],
  ];
  for (const [name, address] of addresses) {
    if (address === null) continue;
    const { host } = parseHostPort(address, name);
    if (!isLoopback(host) && c.tls === null && !c.insecure) {
      throw new ConfigError(
        `${name} ${address} is not a loopback address: give --tls-cert/--tls-key/--tls-ca, ` +
          "or --insecure to allow plaintext",
      );
    }
  }
  if (c.http === null && c.resp === null) throw new ConfigError("give --http, --resp or both");
  if (c.join !== null && c.initialCluster.size > 0) {
    throw new ConfigError("--join and --initial-cluster exclude each other");
  }
  if (c.initialCluster.size > 0) {
    const own = c.initialCluster.get(c.id);
    if (own === undefined)
      throw new ConfigError(`--initial-cluster does not name this node (${c.id})`);
  }
  if (c.join !== null) parseHostPort(c.join, "--join");
  parseHostPort(c.advertisePeer, "--advertise-peer");
  if (c.storage === "memory" && c.state === "lmdb") {
    throw new ConfigError("--storage memory keeps no log on disk: use --state memory with it");
  }
}
