// raft-store, the server: one member of a replicated key-value store. It opens the Raft log
// (<data>/raft) and the key-value state (<data>/kv), starts the Raft node on the TCP transport,
// and serves the HTTP and RESP APIs. Background duties: registering this member's endpoints in
// the replicated directory, and (on the leader) proposing the deletion of expired keys.
//
// Data directory:  <data>/raft  the Raft log, hard state and snapshots (--storage)
//                  <data>/kv    the key-value state in LMDB (--state lmdb)
// Both are watched for free space (disk-guard.ts): the node halts before either disk is full.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { nodeId } from "../core/types.js";
import { ConfigError } from "../errors.js";
import {
  type KvResult,
  type KvStore,
  LmdbKvStateMachine,
  defaultKvLimits,
  openKvStateMachine,
} from "../kv/index.js";
import type { Logger } from "../logger.js";
import { RaftNode } from "../node/raft-node.js";
import { openStorage } from "../storage/open-storage.js";
import type { Storage } from "../storage/types.js";
import { createTcpTransport } from "../transport/tcp/tcp-transport.js";
import type { ServerConfig } from "./config.js";
import { parseHostPort } from "./config.js";
import { type RegisterOutcome, directoryKey, encodeEndpoints } from "./directory.js";
import { DiskGuard } from "./disk-guard.js";
import { Forwarder } from "./forward.js";
import { HttpApi } from "./http/http-api.js";
import { instrumentStorage } from "./instrumented-storage.js";
import { LocalKv } from "./local-kv.js";
import { ServerMetrics } from "./metrics.js";
import { createRespServer, type RespServer } from "./resp/resp-server.js";
import { DataLostError, type Incarnation, settleIncarnation } from "./incarnation.js";
import { repairAdvice, untrustedData } from "./repair.js";
import { Service } from "./service.js";
import { joinCluster, membersToJoin } from "./join.js";

export interface RunningServer {
  readonly id: number;
  readonly node: RaftNode<KvResult>;
  readonly service: Service;
  /** The bound addresses (a port 0 in the configuration is resolved here). */
  readonly http: string | null;
  readonly resp: string | null;
  stop(): Promise<void>;
}

const sweepIntervalMs = 250;
const sweepKeysMax = 256;
const registerIntervalMs = 500;

function startMembers(config: ServerConfig, fresh: boolean): Map<number, string> {
  const members = new Map<number, string>([[config.id, config.advertisePeer]]);
  if (fresh || config.initialCluster.size > 0) {
    for (const [id, address] of config.initialCluster) members.set(id, address);
  }
  return members;
}

export async function startServer(config: ServerConfig, logger: Logger): Promise<RunningServer> {
  let started: RaftNode<KvResult> | null = null;
  const metrics = new ServerMetrics(() => started?.status() ?? null);
  const storage = instrumentStorage(
    await openStorage(
      config.storage === "memory"
        ? { kind: "memory" }
        : config.storage === "wal"
          ? { kind: "wal", dir: join(config.dataDir, "raft"), writeMode: config.walWriteMode,
            preallocate: config.walPreallocate }
          : { kind: config.storage, dir: join(config.dataDir, "raft") },
    ),
    metrics,
  );
  for (const repair of storage.repairs) logger.warn("storage repaired on open", { repair });
  const fresh = storage.stable.get().nodeId === null;
  if (fresh && config.initialCluster.size === 0 && config.join === null) {
    await storage.close();
    throw new ConfigError(
      `${config.dataDir} holds no data: give --initial-cluster to found a cluster or --join to join one`,
    );
  }
  const incarnation = await settleIncarnation(config.dataDir, fresh, config.join !== null);
  const members = startMembers(config, fresh);
  if (fresh && config.join !== null) {
    for (const [id, address] of await membersToJoin(config)) members.set(id, address);
  }
  const store: KvStore = await openKvStateMachine(
    config.state === "memory"
      ? { kind: "memory" }
      : { kind: "lmdb", dir: join(config.dataDir, "kv") },
  );
  if (store instanceof LmdbKvStateMachine && store.discardedOnOpen !== null) {
    logger.warn("state discarded on open: rebuilding it from the snapshot and the log",
      { reason: store.discardedOnOpen });
  }
  const tls = readTls(config);
  const transport = createTcpTransport({
    localId: nodeId(config.id),
    clusterId: config.clusterId,
    listen: config.peer,
    peers: new Map(
      [...members].filter(([id]) => id !== config.id).map(([id, a]) => [nodeId(id), a]),
    ),
    insecure: config.insecure,
    acceptUnknownPeers: true,
    logger,
    ...(tls === null ? {} : { tls }),
  });
  const node: RaftNode<KvResult> = new RaftNode<KvResult>({
    id: config.id,
    clusterId: config.clusterId,
    members,
    join: !(fresh && config.initialCluster.size > 0),
    storage,
    transport,
    stateMachine: store,
    tickMs: config.tickMs,
    raft: { electionTicks: config.electionTicks },
    lease: config.unsafeLeaseMs === null
      ? { clockDriftBound: 0.1 }
      : { clockDriftBound: 0.1, unsafeLeaseMs: config.unsafeLeaseMs },
    snapshots: { thresholdEntries: config.snapshotThreshold },
    followerApplyDelayMs: config.followerApplyDelayMs,
    pipelineLeaderWrites: config.pipelineLeaderWrites,
    logger,
  });
  node.on("fatal", (error) => {
    logger.error("raft node stopped on a fatal error", { error: error.message });
    if (untrustedData(error)) logger.error(repairAdvice(config));
  });
  node.on("leader-change", (leader, term) => logger.info("leader changed", { leader, term }));
  const guard = diskGuard(config, node, metrics, logger);
  const low = guard === null ? null : await guard.check();
  if (low !== null) {
    await storage.close();
    await store.close();
    throw low;
  }
  await node.start();
  started = node;
  guard?.start();
  return serve(config, { node, store, storage, metrics, logger, tls, fresh, guard, incarnation });
}

/** The watch on the free space under the data directories on disk (none: null). */
function diskGuard(config: ServerConfig, node: RaftNode<KvResult>, metrics: ServerMetrics,
  logger: Logger): DiskGuard | null {
  const paths = [
    ...(config.storage === "memory" ? [] : [join(config.dataDir, "raft")]),
    ...(config.state === "memory" ? [] : [join(config.dataDir, "kv")]),
  ];
  if (config.minFreeBytes === 0 || paths.length === 0) return null;
  let unreadable = false;
  return new DiskGuard({
    paths,
    minFreeBytes: config.minFreeBytes,
    onReading: (path, bytes) => metrics.diskFree(path, bytes),
    // The node logs the error and emits "fatal" (the command line then exits with code 2).
    onLow: (error) => node.halt(error),
    onError: (path, error) => {
      if (unreadable) return;
      unreadable = true;
      logger.warn("cannot read the free space of a data directory", { path,
        error: error instanceof Error ? error.message : String(error) });
    },
  });
}

interface Parts {
  readonly node: RaftNode<KvResult>;
  readonly store: KvStore;
  readonly storage: Storage;
  readonly metrics: ServerMetrics;
  readonly logger: Logger;
  readonly tls: { cert: Buffer; key: Buffer; ca: Buffer } | null;
  readonly fresh: boolean;
  readonly guard: DiskGuard | null;
  readonly incarnation: Incarnation;
}

async function serve(config: ServerConfig, p: Parts): Promise<RunningServer> {
  const { node, store, metrics, logger } = p;
  const local = new LocalKv({
    node,
    store,
    metrics,
    now: () => Date.now(),
    unsafeLocalReads: config.unsafeLocalReads,
  });
  const forwarder = new Forwarder({ token: config.token, tls: config.tls, timeoutMs: 15_000 });
  const service = new Service({
    node,
    store,
    local,
    forwarder,
    unsafeLocalReads: config.unsafeLocalReads,
  });
  let httpAddress: string | null = null;
  let httpApi: HttpApi | null = null;
  if (config.http !== null) {
    httpApi = new HttpApi({
      service,
      metrics,
      logger,
      token: config.token,
      tls: p.tls,
      valueBytesMax: defaultKvLimits.valueBytesMax,
      jsonBytesMax: 8 * 1024 * 1024,
      health: () => health(node),
    });
    const { host, port } = parseHostPort(config.http, "--http");
    httpAddress = formatAddress(host, await httpApi.listen(host, port));
  }
  let respServer: RespServer | null = null;
  let respAddress: string | null = null;
  if (config.resp !== null) {
    respServer = createRespServer({
      kv: service,
      admin: service,
      logger,
      metrics,
      ...(config.token === null ? {} : { token: config.token }),
      ...(p.tls === null ? {} : { tls: p.tls }),
    });
    const { host, port } = parseHostPort(config.resp, "--resp");
    respAddress = formatAddress(host, await respServer.listen(host, port));
  }
  const duties = startDuties(
    config.id,
    { http: httpAddress, resp: respAddress },
    service,
    local,
    p,
  );
  if (p.fresh && config.join !== null) {
    joinCluster(config, logger).catch((error: unknown) => {
      logger.error("joining the cluster failed", { error: String(error) });
    });
  }
  logger.info("raft-store serving", {
    id: config.id,
    http: httpAddress,
    resp: respAddress,
    peer: config.peer,
  });
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      p.guard?.stop();
      duties.stop();
      await Promise.allSettled([httpApi?.close(), respServer?.close()]);
      await node.stop();
      forwarder.close();
      await p.storage.close();
      await store.close();
    })();
    return stopping;
  };
  return { id: config.id, node, service, http: httpAddress, resp: respAddress, stop };
}

function health(node: RaftNode<KvResult>): {
  live: boolean;
  ready: boolean;
  detail: Record<string, unknown>;
} {
  const s = node.status();
  const live = s.state === "running";
  return {
    live,
    ready: live && s.leaderId !== null,
    detail: {
      id: String(s.id),
      role: s.role,
      leader: s.leaderId === null ? null : String(s.leaderId),
      term: s.term,
    },
  };
}

/** Registration of this member's endpoints, and the leader's sweeps of expired keys. */
function startDuties(
  id: number,
  endpoints: { http: string | null; resp: string | null },
  service: Service,
  local: LocalKv,
  p: Parts,
): { stop(): void } {
  const want = encodeEndpoints(endpoints);
  let registering = false;
  // Once per start the leader checks this incarnation (incarnation.ts), even when the entry
  // here is already the one wanted.
  let checked = false;
  let sweeping = false;
  const register = setInterval(() => {
    if (registering || p.node.status().leaderId === null) return;
    if (checked && p.store.get(directoryKey(id))?.value === want) return;
    registering = true;
    service
      .register(id, endpoints, p.incarnation)
      .then((answer) => {
        // Forwarded answers come off the network; a leader older than incarnations answers
        // with the result of its put, which wrote the endpoints.
        const outcome = answer as Partial<RegisterOutcome> | null;
        if (typeof outcome?.recorded === "string") {
          clearInterval(register);
          p.node.halt(new DataLostError(id, outcome.recorded, p.incarnation.id));
        } else if (outcome?.registered !== false) {
          if (!checked) {
            p.logger.info("registered in the member directory",
              { incarnation: p.incarnation.id, origin: p.incarnation.origin });
          }
          checked = true;
        }
      })
      .catch((error: unknown) =>
        p.logger.debug("endpoint registration failed", { error: String(error) }),
      )
      .finally(() => {
        registering = false;
      });
  }, registerIntervalMs);
  const sweep = setInterval(() => {
    if (sweeping || p.node.status().role !== "leader") return;
    const keys = p.store.expiredKeys(Date.now(), sweepKeysMax);
    if (keys.length === 0) return;
    sweeping = true;
    local
      .propose({ kind: "sweep", keys, nowMs: Date.now() })
      .catch((error: unknown) => p.logger.debug("expiry sweep failed", { error: String(error) }))
      .finally(() => {
        sweeping = false;
      });
  }, sweepIntervalMs);
  return {
    stop() {
      clearInterval(register);
      clearInterval(sweep);
    },
  };
}

function formatAddress(host: string, bound: AddressInfo): string {
  return host.includes(":") ? `[${host}]:${bound.port}` : `${host}:${bound.port}`;
}

function readTls(config: ServerConfig): { cert: Buffer; key: Buffer; ca: Buffer } | null {
  if (config.tls === null) return null;
  try {
    return {
      cert: readFileSync(config.tls.cert),
      key: readFileSync(config.tls.key),
      ca: readFileSync(config.tls.ca),
    };
  } catch (error) {
    throw new ConfigError(`cannot read the TLS files: ${(error as Error).message}`);
  }
}
