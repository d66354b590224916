// Proves that every storage backend (memory, wal, lmdb, level) behaves identically through the
// LogStore, StableStore and SnapshotStore interfaces: same results, same typed errors, same
// state after a reopen, including the edge cases around compaction and truncation. The WAL
// runs in each write mode: thread-pool writes (its default), inline, and auto.

import { describeConformance } from "../../../src/storage/conformance/index.js";
import { storageKinds } from "../../../src/storage/types.js";
import { backendFor } from "../../support/storage/backends.js";

for (const kind of storageKinds) describeConformance(backendFor(kind));
describeConformance(backendFor("wal", { writeMode: "inline" }));
describeConformance(backendFor("wal", { writeMode: "auto" }));
describeConformance(backendFor("wal", { preallocate: false }));
