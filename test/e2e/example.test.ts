// Proves the README's embedding example runs as printed: it elects a leader, replicates, reads
// linearizably and shuts down cleanly.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const example = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "examples", "embed.js");

test("the embedding example elects a leader, replicates and reads its own write", () => {
  const run = spawnSync(process.execPath, [example], { encoding: "utf8", timeout: 30_000 });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /replaced "hello"/);
  assert.match(run.stdout, /greeting = hello, raft/);
  assert.match(run.stdout, /done/);
});
