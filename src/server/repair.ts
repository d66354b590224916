// A member whose own data cannot be trusted (a corrupt log record, hard state or snapshot), or
// that lost it (incarnation.ts), must not serve on it. Its peers hold every committed entry, so
// the repair is to replace it: what the operator reads when the member stops for that reason
// (README: Replacing a member).

import { LostEntriesError } from "../errors.js";
import { InconsistentStateError } from "../node/durable-log.js";
import { CorruptLogError, CorruptSnapshotError, CorruptStateError } from "../storage/errors.js";
import type { ServerConfig } from "./config.js";
import { DataLostError } from "./incarnation.js";

/** Whether `error`, or an error it wraps, says this member's own data cannot be trusted. */
export function untrustedData(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (e instanceof CorruptLogError || e instanceof CorruptStateError ||
      e instanceof CorruptSnapshotError || e instanceof InconsistentStateError ||
      e instanceof DataLostError || e instanceof LostEntriesError) return true;
  }
  return false;
}

/** The repair for a member whose data cannot be trusted. */
export function repairAdvice(config: Pick<ServerConfig, "id" | "dataDir">): string {
  return `member ${config.id}'s data cannot be trusted, so it will not serve. ` +
    "If the cluster's other members are healthy, they hold every committed entry: remove " +
    `this member (raft-store members remove ${config.id}), empty ${config.dataDir}, then ` +
    "start it with --join <a member's HTTP address> (README: Replacing a member)";
}
