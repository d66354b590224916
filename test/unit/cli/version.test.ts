// `raft-store --version` and INFO's raft_store_version give package.json's version, however the
// program is started (not only under npm, which sets npm_package_version).

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { raftStoreVersion } from "../../../src/version.js";

const packageJson: unknown = JSON.parse(
  readFileSync(new URL("../../../../package.json", import.meta.url), "utf8"));
const main = fileURLToPath(new URL("../../../src/cli/main.js", import.meta.url));

test("the version is package.json's", () => {
  assert.ok(typeof packageJson === "object" && packageJson !== null && "version" in packageJson);
  assert.match(raftStoreVersion, /^\d+\.\d+\.\d+/);
  assert.equal(raftStoreVersion, packageJson.version);
});

test("raft-store --version prints it, without npm's environment", () => {
  const env = { ...process.env };
  delete env["npm_package_version"];
  for (const flag of ["--version", "-v", "version"]) {
    const out = execFileSync(process.execPath, [main, flag], { env }).toString();
    assert.equal(out, `raft-store ${raftStoreVersion}\n`);
  }
});
