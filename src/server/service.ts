// The server's KvApi and AdminApi as clients see them on any member: the leader runs requests
// itself (LocalKv, the node's membership API); a follower forwards them to the leader (stale
// reads excepted, which it serves from its own state). `callLocal` is the leader's side of a
// forwarded request: it validates the JSON arguments and never forwards again.

import type { KvResult, KvStore, OpResult, Txn } from "../kv/index.js";
import { ReadConsistency } from "../node/ports.js";
import type { RaftNode } from "../node/raft-node.js";
import {
  type AddMemberRequest,
  type AdminApi,
  type ClusterView,
  type DeleteResponse,
  type ExpireResponse,
  type GetResponse,
  type IncrResponse,
  InvalidRequestError,
  type KvApi,
  MemberRole,
  type MemberView,
  type PutRequest,
  type PutResponse,
  type RangeRequest,
  type RangeResponse,
  type TxnRequest,
  type TxnResponse,
  UnavailableError,
  type WriteSession,
} from "./api.js";
import { parseNodeId } from "./config.js";
import {
  type Endpoints,
  type RegisterOutcome,
  directoryKey,
  encodeEndpoints,
  incarnationKey,
  lookupEndpoints,
} from "./directory.js";
import type { Forwarder } from "./forward.js";
import { type Incarnation, isIncarnationId, isOrigin } from "./incarnation.js";
import type { LocalKv } from "./local-kv.js";
import {
  addMemberRequest,
  consistency,
  int64,
  keyList,
  nonNegativeInteger,
  putRequest,
  rangeRequest,
  str,
  txnRequest,
  userKey,
  writeSession,
} from "./validate.js";

export interface ServiceParts {
  readonly node: RaftNode<KvResult>;
  readonly store: KvStore;
  readonly local: LocalKv;
  readonly forwarder: Forwarder;
  /** Test-only planted bug: reads are served from this member's state, never forwarded. */
  readonly unsafeLocalReads: boolean;
}

export class Service implements KvApi, AdminApi {
  constructor(private readonly p: ServiceParts) {}

  private isLeader(): boolean {
    return this.p.node.role === "leader";
  }

  /** The leader's HTTP address, or UnavailableError (nothing was sent, nothing applied). */
  private leaderAddress(): string {
    const leader = this.p.node.leaderId;
    if (leader === null)
      throw new UnavailableError("no leader is known (an election is under way)");
    const endpoints = lookupEndpoints(this.p.store, leader);
    if (endpoints?.http === undefined || endpoints.http === null) {
      throw new UnavailableError(`the HTTP address of leader ${leader} is not known here yet`);
    }
    return endpoints.http;
  }

  private route<T>(method: string, args: readonly unknown[], run: () => Promise<T>): Promise<T> {
    if (this.isLeader()) return run();
    try {
      return this.p.forwarder.call<T>(this.leaderAddress(), method, args);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  put(request: PutRequest): Promise<PutResponse> {
    return this.route("put", [request], () => this.p.local.put(request));
  }

  delete(keys: readonly string[], session?: WriteSession): Promise<DeleteResponse> {
    const args = session === undefined ? [keys] : [keys, session];
    return this.route("delete", args, () => this.p.local.delete(keys, session));
  }

  txn(request: TxnRequest): Promise<TxnResponse> {
    return this.route("txn", [request], () => this.p.local.txn(request));
  }

  incrBy(key: string, delta: string): Promise<IncrResponse> {
    return this.route("incrBy", [key, delta], () => this.p.local.incrBy(key, delta));
  }

  expire(key: string, ttlMs: number | null): Promise<ExpireResponse> {
    return this.route("expire", [key, ttlMs], () => this.p.local.expire(key, ttlMs));
  }

  get(keys: readonly string[], level: ReadConsistency): Promise<GetResponse> {
    if (level === ReadConsistency.Stale || this.p.unsafeLocalReads)
      return this.p.local.get(keys, level);
    return this.route("get", [keys, level], () => this.p.local.get(keys, level));
  }

  range(request: RangeRequest): Promise<RangeResponse> {
    if (request.consistency === ReadConsistency.Stale || this.p.unsafeLocalReads) {
      return this.p.local.range(request);
    }
    return this.route("range", [request], () => this.p.local.range(request));
  }

  /**
   * Writes this server's endpoints into the member directory, through the leader, which checks
   * `incarnation` against the one the id is recorded under (incarnation.ts). The check and the
   * write are transactions in the log, so they see every registration committed before them.
   */
  register(id: number, endpoints: Endpoints, incarnation: Incarnation): Promise<RegisterOutcome> {
    const value = encodeEndpoints(endpoints);
    return this.route("register", [id, value, incarnation.id, incarnation.origin],
      () => this.registerLocal(id, value, incarnation));
  }

  /** `incarnation` is null for a member older than incarnations: its endpoints are written. */
  private async registerLocal(
    id: number,
    value: string,
    incarnation: Incarnation | null,
  ): Promise<RegisterOutcome> {
    const endpoints = { op: "put", key: directoryKey(id), value } as const;
    if (incarnation === null) {
      await this.p.local.propose({ kind: "put", key: directoryKey(id), value });
      return { registered: true, recorded: null };
    }
    const key = incarnationKey(id);
    const same = await this.proposeTxn({
      compare: [{ target: "value", key, value: incarnation.id }],
      success: [endpoints],
      failure: [{ op: "get", key }],
    });
    if (same.succeeded) return { registered: true, recorded: null };
    const found = same.results[0];
    const recorded = found?.op === "get" ? found.value : null;
    // Another incarnation registered this id: a member that founded its data anew lost the
    // data that incarnation had; one that joined was added anew, so the id is its own now.
    if (recorded !== null && incarnation.origin === "founded") {
      return { registered: false, recorded };
    }
    const claim = await this.proposeTxn({
      compare: [recorded === null
        ? { target: "absent", key }
        : { target: "value", key, value: recorded }],
      success: [{ op: "put", key, value: incarnation.id }, endpoints],
      failure: [],
    });
    return { registered: claim.succeeded, recorded: null };
  }

  private async proposeTxn(
    txn: Txn,
  ): Promise<{ succeeded: boolean; results: readonly OpResult[] }> {
    const result = await this.p.local.propose({ kind: "txn", txn });
    if (result.kind !== "txn") {
      throw new UnavailableError(`registration not applied: ${JSON.stringify(result)}`);
    }
    return result;
  }

  // ---- administration ----

  cluster(): Promise<ClusterView> {
    return Promise.resolve(this.view());
  }

  private view(): ClusterView {
    const status = this.p.node.status();
    const conf = this.p.node.configuration();
    const peers = new Map(status.peers.map((p) => [p.id as number, p]));
    const ids = [...new Set([...conf.voters, ...conf.votersOutgoing, ...conf.learners])].sort(
      (a, b) => a - b,
    );
    const members = ids.map((id): MemberView => {
      const endpoints = lookupEndpoints(this.p.store, id);
      const peer = peers.get(id);
      const self = id === status.id;
      const match =
        self && status.role === "leader" ? status.lastIndex : (peer?.matchIndex ?? null);
      return {
        id: String(id),
        address: conf.addresses?.[String(id)] ?? "",
        role: conf.learners.includes(id) ? MemberRole.Learner : MemberRole.Voter,
        http: endpoints?.http ?? null,
        resp: endpoints?.resp ?? null,
        matchIndex: status.role === "leader" ? match : null,
        lag: status.role === "leader" && match !== null ? status.lastIndex - match : null,
      };
    });
    return {
      self: String(status.id),
      leader: status.leaderId === null ? null : String(status.leaderId),
      term: status.term,
      role: status.role,
      commitIndex: status.commitIndex,
      appliedIndex: status.appliedIndex,
      members,
      joint: conf.votersOutgoing.length > 0,
    };
  }

  addMember(request: AddMemberRequest): Promise<ClusterView> {
    return this.route("admin.addMember", [request], async () => {
      const id = parseMemberId(request.id);
      if (request.role === MemberRole.Learner) await this.p.node.addLearner(id, request.address);
      else await this.p.node.addVoter(id, request.address);
      return this.view();
    });
  }

  promote(idText: string): Promise<ClusterView> {
    return this.route("admin.promote", [idText], async () => {
      await this.p.node.promote(parseMemberId(idText));
      return this.view();
    });
  }

  removeMember(idText: string): Promise<ClusterView> {
    return this.route("admin.removeMember", [idText], async () => {
      const id = parseMemberId(idText);
      await this.p.node.removeServer(id);
      await this.p.local.propose({ kind: "delete", key: directoryKey(id) });
      return this.view();
    });
  }

  transferLeader(idText?: string): Promise<{ readonly leader: string }> {
    const args = idText === undefined ? [] : [idText];
    return this.route("admin.transferLeader", args, async () => {
      const leader = await this.p.node.transferLeadership(
        idText === undefined ? undefined : parseMemberId(idText),
      );
      return { leader: String(leader) };
    });
  }

  async snapshot(): Promise<{ readonly index: number; readonly term: number }> {
    const meta = await this.p.node.snapshot();
    return { index: meta.index, term: meta.term };
  }

  // ---- the leader's side of a forwarded request ----

  /** Runs a forwarded request here, after checking its arguments (they come off the network). */
  callLocal(method: unknown, args: unknown): Promise<unknown> {
    if (!Array.isArray(args))
      return Promise.reject(new InvalidRequestError("args must be an array"));
    const local = this.p.local;
    const a = args as unknown[];
    switch (method) {
      case "put":
        return local.put(putRequest(a[0]));
      case "delete":
        return local.delete(keyList(a[0]), a[1] === undefined ? undefined : writeSession(a[1]));
      case "txn":
        return local.txn(txnRequest(a[0]));
      case "incrBy":
        return local.incrBy(userKey(a[0]), int64(a[1], "increment"));
      case "expire":
        return local.expire(userKey(a[0]), a[1] === null ? null : positive(a[1]));
      case "get":
        return local.get(keyList(a[0]), consistency(a[1]));
      case "range":
        return local.range(rangeRequest(a[0]));
      case "register":
        return this.registerLocal(parseMemberId(String(a[0])), str(a[1], "endpoints"),
          registerIncarnation(a[2], a[3]));
      case "admin.addMember":
        return this.requireLeader(() => this.addMember(addMemberRequest(a[0])));
      case "admin.promote":
        return this.requireLeader(() => this.promote(str(a[0], "id")));
      case "admin.removeMember":
        return this.requireLeader(() => this.removeMember(str(a[0], "id")));
      case "admin.transferLeader":
        return this.requireLeader(() =>
          this.transferLeader(a[0] === undefined ? undefined : str(a[0], "id")),
        );
      default:
        return Promise.reject(new InvalidRequestError(`unknown method ${JSON.stringify(method)}`));
    }
  }

  private requireLeader<T>(run: () => Promise<T>): Promise<T> {
    if (!this.isLeader())
      return Promise.reject(new UnavailableError("this member is no longer the leader"));
    return run();
  }
}

function parseMemberId(text: string): number {
  try {
    return parseNodeId(text, "member id");
  } catch (error) {
    throw new InvalidRequestError((error as Error).message);
  }
}

function positive(value: unknown): number {
  const n = nonNegativeInteger(value, "ttlMs");
  if (n === 0) throw new InvalidRequestError("ttlMs must be positive");
  return n;
}

/** A forwarded registration's incarnation: absent from a member older than incarnations. */
function registerIncarnation(id: unknown, origin: unknown): Incarnation | null {
  if (id === undefined && origin === undefined) return null;
  if (!isIncarnationId(id)) throw new InvalidRequestError("incarnation must be 16 hex digits");
  if (!isOrigin(origin)) throw new InvalidRequestError("origin must be founded, joined or unknown");
  return { id, origin };
}
