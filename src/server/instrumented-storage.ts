// Storage seen through the metrics: the time of every durable log append (one fsync per batch)
// and every committed snapshot. The wrapper changes nothing else: same stores, same order.

import type { AppendOptions, LogStore, SnapshotStore, Storage } from "../storage/types.js";
import type { ServerMetrics } from "./metrics.js";

export function instrumentStorage(storage: Storage, metrics: ServerMetrics): Storage {
  const log = storage.log;
  const timedLog: LogStore = {
    firstIndex: () => log.firstIndex(),
    lastIndex: () => log.lastIndex(),
    term: (index) => log.term(index),
    entries: (lo, hi, bytesMax) => log.entries(lo, hi, bytesMax),
    truncateSuffix: (from) => log.truncateSuffix(from),
    truncatePrefix: (index, term) => log.truncatePrefix(index, term),
    async append(entries, options: AppendOptions) {
      if (!options.sync) return log.append(entries, options);
      const started = performance.now();
      await log.append(entries, options);
      metrics.observeFsync((performance.now() - started) / 1000);
    },
  };
  const snapshots = storage.snapshots;
  const countedSnapshots: SnapshotStore = {
    latest: () => snapshots.latest(),
    open: (index) => snapshots.open(index),
    indexes: () => snapshots.indexes(),
    list: () => snapshots.list(),
    retain: (count) => snapshots.retain(count),
    async create(meta) {
      const writer = await snapshots.create(meta);
      return {
        meta: writer.meta,
        write: (chunk) => writer.write(chunk),
        abort: () => writer.abort(),
        async commit() {
          await writer.commit();
          metrics.snapshot("stored");
        },
      };
    },
  };
  return {
    kind: storage.kind,
    log: timedLog,
    stable: storage.stable,
    snapshots: countedSnapshots,
    repairs: storage.repairs,
    close: () => storage.close(),
  };
}
