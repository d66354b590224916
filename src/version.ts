// raft-store's version, read once from its package.json: compiled, this file is
// dist/src/version.js, two directories below the package root. "unknown" if that file is
// missing or has no version string (a copy of dist/ without its package.json).

import { readFileSync } from "node:fs";

function readVersion(): string {
  try {
    const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null && "version" in parsed) {
      const version: unknown = parsed.version;
      if (typeof version === "string" && version !== "") return version;
    }
  } catch {
    // No readable package.json beside dist/: the version is unknown, which INFO says.
  }
  return "unknown";
}

export const raftStoreVersion: string = readVersion();
