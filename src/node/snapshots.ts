// Log compaction in the driver: snapshots of the state machine taken from a point-in-time view
// while turns go on, written through the SnapshotStore, then the log prefix dropped (keeping
// trailing entries for followers slightly behind); snapshots streamed to followers that need
// compacted entries, and received, stored and installed on followers.

import { assert } from "../assert.js";
import type { MemoryLog } from "../core/memory-log.js";
import { type InstallSnapshot, MessageType } from "../core/messages.js";
import type { Raft } from "../core/raft.js";
import type { LogIndex, NodeId, SnapshotMeta } from "../core/types.js";
import { RaftStoreError } from "../errors.js";
import type { Logger } from "../logger.js";
import { InconsistentStateError } from "./durable-log.js";
import type { Storage } from "../storage/types.js";
import type { IncomingSnapshot, Transport } from "../transport/transport.js";
import type { StateMachine } from "./ports.js";

export interface SnapshotPolicy {
  /** Take a snapshot once this many entries were applied since the last one (0: only on request). */
  readonly thresholdEntries: number;
  /** Entries kept in the log behind a snapshot, for followers slightly behind. */
  readonly trailingEntries: number;
  /** Snapshots kept on disk. */
  readonly retained: number;
}

/** What the snapshot manager needs from its node. */
export interface SnapshotHost {
  readonly id: NodeId;
  readonly storage: Storage;
  readonly transport: Transport;
  readonly stateMachine: StateMachine<unknown>;
  readonly logger: Logger;
  /** Runs `action` on the core between turns. */
  inLoop<T>(action: (raft: Raft) => T): Promise<T>;
  /** The driver's log cache. */
  cache(): MemoryLog;
  appliedIndex(): LogIndex;
  /** Hands a message to the core as if it came from the network. */
  deliver(message: InstallSnapshot): void;
}

export class SnapshotManager {
  private taking: Promise<SnapshotMeta> | null = null;
  private readonly sending = new Set<NodeId>();
  private lastIndex: LogIndex;

  constructor(
    private readonly host: SnapshotHost,
    private readonly policy: SnapshotPolicy,
    latest: SnapshotMeta | null,
  ) {
    this.lastIndex = latest?.index ?? 0;
  }

  /** After a turn: takes a snapshot in the background when the policy says so. */
  maybeTake(): void {
    const { thresholdEntries } = this.policy;
    if (thresholdEntries <= 0 || this.taking !== null) return;
    if (this.host.appliedIndex() - this.lastIndex < thresholdEntries) return;
    this.take().catch((error: unknown) => this.warn("snapshot failed", error));
  }

  /** Takes a snapshot now (or joins the one in progress); resolves with its metadata. */
  take(): Promise<SnapshotMeta> {
    this.taking ??= this.write().finally(() => {
      this.taking = null;
    });
    return this.taking;
  }

  private async write(): Promise<SnapshotMeta> {
    const { storage, stateMachine } = this.host;
    // Between turns, the state machine stands exactly at the applied index: capture both.
    const { meta, data } = await this.host.inLoop((raft) => {
      const index = this.host.appliedIndex();
      const term = raft.log.term(index);
      assert(term !== null, `no term for applied index ${index}`);
      const configuration = raft.confLog.at(index);
      return { meta: { index, term, configuration }, data: stateMachine.snapshot() };
    });
    if (meta.index <= this.lastIndex) return meta;
    const writer = await storage.snapshots.create(meta);
    try {
      for await (const chunk of await data) await writer.write(chunk);
      await writer.commit();
    } catch (error) {
      await writer.abort().catch(() => undefined);
      throw error;
    }
    this.lastIndex = meta.index;
    await this.compact(meta);
    await this.retain();
    this.host.logger.info("snapshot taken", { id: this.host.id, index: meta.index });
    return meta;
  }

  /** Drops the log up to the snapshot less the trailing entries: on disk first, then in memory. */
  private async compact(meta: SnapshotMeta): Promise<void> {
    const cache = this.host.cache();
    cache.setSnapshot(meta);
    // A leader applies entries its own write may not have made durable yet: compact what is.
    const to = Math.min(meta.index - this.policy.trailingEntries, cache.lastIndex());
    if (to <= cache.firstIndex() - 1) return;
    const term = cache.term(to);
    assert(term !== null, `no term at compaction point ${to}`);
    await this.host.storage.log.truncatePrefix(to, term);
    await this.host.inLoop((raft) => {
      cache.compact(to);
      cache.setConfiguration(raft.confLog.at(to));
    });
  }

  /** Leader: streams the snapshot the core offers to a follower, and reports how it ended. */
  send(offer: InstallSnapshot): void {
    if (this.sending.has(offer.to)) return;
    this.sending.add(offer.to);
    const report = (ok: boolean): Promise<void> =>
      this.host.inLoop((raft) => raft.reportSnapshot(offer.to, ok)).catch(() => undefined);
    this.stream(offer)
      .then(() => report(true), async (error: unknown) => {
        this.warn(`snapshot to node ${offer.to} failed`, error);
        await report(false);
      })
      .finally(() => this.sending.delete(offer.to));
  }

  private async stream(offer: InstallSnapshot): Promise<void> {
    const reader = await this.host.storage.snapshots.open(offer.meta.index);
    if (reader === null) throw new Error(`snapshot ${offer.meta.index} is no longer stored`);
    const { from, to, term, meta } = offer;
    await this.host.transport.sendSnapshot({ from, to, term, meta }, reader.chunks());
  }

  /** Follower: stores an incoming snapshot, then hands its offer to the core. */
  async receive(incoming: IncomingSnapshot): Promise<void> {
    const writer = await this.host.storage.snapshots.create(incoming.meta);
    try {
      for await (const chunk of incoming.chunks) await writer.write(chunk);
      await writer.commit();
    } catch (error) {
      await writer.abort().catch(() => undefined);
      throw error;
    }
    this.lastIndex = Math.max(this.lastIndex, incoming.meta.index);
    await this.retain();
    const { from, to, term, meta } = incoming;
    this.host.deliver({ type: MessageType.InstallSnapshot, from, to, term, meta });
  }

  /**
   * Keeps the newest `retained` snapshots at or below the applied index, and every one above it.
   * A snapshot above the applied index was received and not adopted yet; the core may still
   * install it even when a newer one is stored: that one may have come from a leader of a stale
   * term (the driver stores a snapshot before the core sees its offer), been turned down, and
   * an older snapshot from the current leader then be the one adopted.
   */
  private async retain(): Promise<void> {
    const snapshots = this.host.storage.snapshots;
    const applied = this.host.appliedIndex();
    // Newest first: the ones above the applied index come first.
    const ahead = (await snapshots.indexes()).filter((index) => index > applied).length;
    await snapshots.retain(ahead + this.policy.retained);
  }

  /**
   * Follower turn: the core adopted a received snapshot. Restores the state machine from it and
   * replaces the log (on disk, then in memory).
   */
  async install(meta: SnapshotMeta): Promise<void> {
    const { storage, stateMachine } = this.host;
    const reader = await storage.snapshots.open(meta.index);
    assert(reader !== null, `snapshot ${meta.index} not stored`);
    await stateMachine.restore(reader.chunks(), reader.meta);
    await placeSnapshot(storage, meta);
    this.host.cache().restoreSnapshot(meta);
  }

  private warn(message: string, error: unknown): void {
    const text = error instanceof Error ? error.message : String(error);
    this.host.logger.warn(message, { id: this.host.id, error: text });
  }
}

/** Makes the log on disk start right after `meta`, dropping every entry (all are obsolete). */
export async function placeSnapshot(storage: Storage, meta: SnapshotMeta): Promise<void> {
  const log = storage.log;
  if (log.lastIndex() >= log.firstIndex()) await log.truncateSuffix(log.firstIndex());
  await log.truncatePrefix(meta.index, meta.term);
}

/** A snapshot whose data or metadata failed its checks (from the store or the state machine). */
function corrupt(error: unknown): boolean {
  return error instanceof RaftStoreError && error.code.includes("CORRUPT");
}

/**
 * On start: restores the state machine from the newest snapshot that is valid. A corrupt one is
 * skipped for an older one as long as the log still covers the entries after it; otherwise the
 * node refuses to start rather than run with a wrong state. Returns the snapshot used (null if
 * none) and the index the state machine stands at.
 */
export async function restoreOnStart(
  storage: Storage,
  stateMachine: StateMachine<unknown>,
  logger: Logger,
): Promise<{ meta: SnapshotMeta | null; applied: LogIndex }> {
  const kept = (await stateMachine.appliedIndex?.()) ?? 0;
  const logStart = storage.log.firstIndex() - 1; // the log holds the entries after this
  for (const index of await storage.snapshots.indexes()) {
    if (index < logStart) break; // older ones leave a gap before the log
    try {
      const reader = await storage.snapshots.open(index);
      if (reader === null) continue;
      if (index <= kept) {
        // A state machine that keeps its state is already there: the metadata is enough.
        await reader.close();
        return { meta: reader.meta, applied: kept };
      }
      await stateMachine.restore(reader.chunks(), reader.meta);
      return { meta: reader.meta, applied: index };
    } catch (error) {
      if (!corrupt(error)) throw error;
      const text = error instanceof Error ? error.message : String(error);
      logger.warn("skipping a corrupt snapshot", { index, error: text });
    }
  }
  if (logStart > kept) {
    throw new InconsistentStateError(
      `no valid snapshot covers the entries up to ${logStart}, where the log starts: ` +
        "the node cannot rebuild its state",
    );
  }
  return { meta: null, applied: kept };
}
