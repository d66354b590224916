// Runs every scripted scenario in test/scenarios/*.scn against the simulated cluster. Each
// script's first comment is the sentence it proves; its `expect` lines are the golden state,
// and the safety checker watches every step.

import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { ScenarioRunner } from "../support/scenario.js";

// Compiled to dist/test/scenarios/; the scripts stay in the source tree.
const here = dirname(fileURLToPath(import.meta.url));
const dir = join(here, "..", "..", "..", "test", "scenarios");

for (const file of readdirSync(dir).filter((f) => f.endsWith(".scn")).sort()) {
  const script = readFileSync(join(dir, file), "utf8");
  const title = /^#\s*(.*)$/m.exec(script)?.[1] ?? file;
  test(`${title} (${file})`, () => {
    new ScenarioRunner().run(script);
  });
}
