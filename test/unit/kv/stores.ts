// The state machines the semantic tests run against: each test opens a fresh one through a
// factory and closes it at the end, so the same tables prove both implementations. LMDB
// environments live in a temporary directory that `removeStoreDirs` (run after each file)
// deletes.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KvStateMachine, type KvStateMachineOptions } from "../../../src/kv/kv-state-machine.js";
import type { KvStore } from "../../../src/kv/kv-store.js";
import { LmdbKvStateMachine } from "../../../src/kv/lmdb-state-machine.js";

export interface StoreKind {
  readonly name: string;
  open(options?: KvStateMachineOptions): Promise<KvStore>;
}

export const memoryKind: StoreKind = {
  name: "memory",
  open: (options) => Promise.resolve(new KvStateMachine(options)),
};

let root: string | undefined;
let opened = 0;

/** A fresh directory for one LMDB environment, under this process's temporary root. */
export function storeDir(): string {
  root ??= mkdtempSync(join(tmpdir(), "raft-store-kv-test-"));
  return join(root, `lmdb-${++opened}`);
}

export function removeStoreDirs(): void {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
  root = undefined;
}

export const lmdbKind: StoreKind = {
  name: "lmdb",
  open: (options) => LmdbKvStateMachine.open(storeDir(), options),
};

export const storeKinds: readonly StoreKind[] = [memoryKind, lmdbKind];
