// Proves the core stays pure: src/core imports only src/core, assert.ts and errors.ts, and uses
// no I/O, clock, global randomness, timers or await. Determinism of the simulator rests on it.

import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const coreDir = join(root, "src", "core");
const files = readdirSync(coreDir).filter((f) => f.endsWith(".ts"));

const forbidden: [RegExp, string][] = [
  [/\bDate\b/, "Date"],
  [/Math\.random/, "Math.random"],
  [/\bawait\b|\basync\b/, "async/await"],
  [/\bset(Timeout|Interval|Immediate)\b/, "timers"],
  [/\bprocess\./, "process"],
  [/\brequire\(/, "require"],
];

test("the core has source files to check", () => {
  assert.ok(files.length >= 10, `only ${files.length} files in src/core`);
});

for (const file of files) {
  test(`src/core/${file} imports only the core, assert.ts and errors.ts`, () => {
    const source = readFileSync(join(coreDir, file), "utf8");
    const imports = [...source.matchAll(/from\s+"([^"]+)"/g)].map((m) => m[1] ?? "");
    for (const spec of imports) {
      const allowed = spec.startsWith("./") || spec === "../assert.js" || spec === "../errors.js";
      assert.ok(allowed, `${file} imports ${spec}`);
    }
  });

  test(`src/core/${file} uses no clock, randomness, timers or await`, () => {
    const code = readFileSync(join(coreDir, file), "utf8")
      .replace(/\/\/.*$/gm, "")
      .replace(/\/\*[\s\S]*?\*\//g, "");
    for (const [pattern, name] of forbidden) {
      assert.ok(!pattern.test(code), `${file} uses ${name}`);
    }
  });
}
