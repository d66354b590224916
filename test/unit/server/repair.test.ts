// When a member stops because its own data cannot be trusted (repair.ts): which errors say so,
// also when wrapped, and the repair the operator is given.

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { LostEntriesError, StoppedError } from "../../../src/errors.js";
import { InconsistentStateError } from "../../../src/node/durable-log.js";
import { DataLostError } from "../../../src/server/incarnation.js";
import { repairAdvice, untrustedData } from "../../../src/server/repair.js";
import {
  CorruptLogError,
  CorruptSnapshotError,
  CorruptStateError,
  StorageFailedError,
} from "../../../src/storage/errors.js";

describe("untrusted data", () => {
  it("is a corrupt log, state or snapshot, an inconsistent state, lost data, wrapped too", () => {
    const corrupt = [
      new CorruptLogError("log/1.wal", 512, "record checksum mismatch"),
      new CorruptStateError("hard-state", "checksum mismatch"),
      new CorruptSnapshotError("snap-1.snap", "checksum mismatch"),
      new InconsistentStateError("no snapshot covers the log's start"),
      new LostEntriesError("leader 2 holds entries up to 7 as committed"),
      new DataLostError(3, "0123456789abcdef", "fedcba9876543210"),
    ];
    for (const error of corrupt) {
      assert.equal(untrustedData(error), true, error.message);
      const wrapped = new StoppedError("raft node failed", { cause: error });
      assert.equal(untrustedData(wrapped), true, `wrapped ${error.message}`);
    }
  });

  it("is not a failed disk, another error, or a non-error", () => {
    const enospc = Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" });
    assert.equal(untrustedData(new StorageFailedError("append", { cause: enospc })), false);
    assert.equal(untrustedData(new Error("boom")), false);
    assert.equal(untrustedData("corrupt"), false);
    assert.equal(untrustedData(undefined), false);
  });

  it("stops at a cycle of causes", () => {
    const a = new Error("a");
    const b = new Error("b", { cause: a });
    Object.assign(a, { cause: b });
    assert.equal(untrustedData(a), false);
  });

  it("comes with the repair: remove, empty the data directory, join", () => {
    assert.equal(repairAdvice({ id: 3, dataDir: "/var/lib/raft-store" }),
      "member 3's data cannot be trusted, so it will not serve. If the cluster's other members " +
      "are healthy, they hold every committed entry: remove this member (raft-store members " +
      "remove 3), empty /var/lib/raft-store, then start it with --join <a member's HTTP " +
      "address> (README: Replacing a member)");
  });
});
