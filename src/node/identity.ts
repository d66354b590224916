// A data directory belongs to one node of one cluster. On start the node refuses another's;
// on a new directory it writes its identity and, for a founding member, the bootstrap entry
// that holds the cluster's initial configuration.

import { bootstrapEntries } from "../core/conf-change.js";
import { ClusterMismatchError } from "../errors.js";
import { InconsistentStateError } from "./durable-log.js";
import type { ResolvedOptions } from "./options.js";

export async function checkIdentity(o: ResolvedOptions<unknown>, noSnapshot: boolean): Promise<void> {
  const { storage, clusterId, id } = o;
  const stored = storage.stable.get();
  if (stored.clusterId !== null && stored.clusterId !== clusterId) {
    throw new ClusterMismatchError(
      `data directory belongs to cluster "${stored.clusterId}", not "${clusterId}"`,
    );
  }
  if (stored.nodeId !== null && stored.nodeId !== id) {
    throw new ClusterMismatchError(`data directory belongs to node ${stored.nodeId}, not node ${id}`);
  }
  if (stored.clusterId !== null && stored.nodeId !== null) return;
  const log = storage.log;
  if (!o.join && noSnapshot && log.lastIndex() <= 1) {
    // A bootstrap cut short by a crash left at most its own entry: write it again.
    if (log.lastIndex() === 1) await log.truncateSuffix(1);
    const addresses = Object.fromEntries([...o.members].map(([member, a]) => [String(member), a]));
    const boot = bootstrapEntries(o.configuration.voters, addresses);
    await log.append(boot.entries, { sync: true });
    await storage.stable.set({ hardState: boot.hardState, clusterId, nodeId: id });
    return;
  }
  if (!o.join) {
    throw new InconsistentStateError("the data directory holds a log but no identity: it is not this node's");
  }
  await storage.stable.set({ clusterId, nodeId: id });
}
