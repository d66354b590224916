// Proves the `npm run sim` contract: the last line is the JSON summary with the promised fields,
// the exit code is 0 without violations, and bad flags are refused with a clear message.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const cli = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "sim", "cli.js");

test("the simulator prints its summary as one JSON object on the last line", () => {
  const run = spawnSync(process.execPath, [cli, "--seeds", "4", "--steps", "600", "--nodes", "3", "--workers", "2"], {
    encoding: "utf8",
  });
  assert.equal(run.status, 0, run.stderr + run.stdout);
  const last = run.stdout.trim().split("\n").at(-1) ?? "";
  const summary = JSON.parse(last) as Record<string, unknown>;
  const fields = ["seeds", "steps", "nodes", "violations", "leaderChanges", "committed", "crashes",
    "partitions", "confChanges", "snapshots", "wallMs"];
  for (const field of fields) assert.equal(typeof summary[field], "number", `field ${field}`);
  assert.equal(summary["seeds"], 4);
  assert.equal(summary["steps"], 600);
  assert.equal(summary["nodes"], 3);
  assert.equal(summary["violations"], 0);
});

test("one seed runs alone with --seed and gives the same counts every time", () => {
  const args = [cli, "--seed", "7", "--steps", "500", "--nodes", "5"];
  const a = spawnSync(process.execPath, args, { encoding: "utf8" });
  const b = spawnSync(process.execPath, args, { encoding: "utf8" });
  const strip = (out: string): unknown => {
    const { wallMs: _wall, ...rest } = JSON.parse(out.trim().split("\n").at(-1) ?? "{}") as Record<string, unknown>;
    return rest;
  };
  assert.equal(a.status, 0);
  assert.deepEqual(strip(a.stdout), strip(b.stdout));
});

test("an unknown flag is refused with a message and a non-zero exit", () => {
  const run = spawnSync(process.execPath, [cli, "--bogus", "1"], { encoding: "utf8" });
  assert.notEqual(run.status, 0);
  assert.match(run.stderr, /unknown flag --bogus/);
});
