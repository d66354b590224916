// The storage conformance suite: one set of node:test cases that every backend must pass with
// identical assertions. A new backend adds a ConformanceBackend and calls describeConformance.

import { describeLogConformance } from "./log-conformance.js";
import type { ConformanceBackend } from "./harness.js";
import { describeSnapshotConformance, describeStableConformance } from "./state-conformance.js";

export type { BackendOptions, BackendPlace, ConformanceBackend } from "./harness.js";
export { StorageContext, withStorage } from "./harness.js";
export * from "./fixtures.js";

export function describeConformance(backend: ConformanceBackend): void {
  describeLogConformance(backend);
  describeStableConformance(backend);
  describeSnapshotConformance(backend);
}
