// The replicated contents' fingerprint, shared by both state machines: SHA-256 (hex) over every
// record in key order (snapshot record layout, expiry included) and the sessions in eviction
// order. Replicas that applied the same commands have the same hash, whatever their snapshot
// history or storage; the applied index is left out because restore sets it from the meta.

import { createHash } from "node:crypto";
import { ByteWriter } from "./binary.js";
import type { SessionEntry } from "./sessions.js";
import { writeRecord, writeSession } from "./snapshot-format.js";
import type { KvRecord } from "./types.js";

export function hashState(records: Iterable<KvRecord>,
  sessions: Iterable<readonly [string, SessionEntry]>): string {
  const hash = createHash("sha256");
  const w = new ByteWriter(64 * 1024);
  const flushBytes = 48 * 1024;
  for (const record of records) {
    writeRecord(w, record);
    if (w.size >= flushBytes) {
      hash.update(w.view());
      w.reset();
    }
  }
  w.utf8("|", 1);
  for (const [clientId, entry] of sessions) writeSession(w, clientId, entry);
  hash.update(w.view());
  return hash.digest("hex");
}
