// Proves that each disk backend survives SIGKILL at seeded random moments: a child process runs
// a random workload (crash-child.ts) and is killed after a seeded number of operations; reopening
// the store must show every synced entry intact, nothing deleted coming back, no gap, every
// byte as written, and (WAL) a torn tail repaired durably, so a second open repairs nothing.
// The WAL is killed in each write mode (thread pool, inline, and auto with mixed hints).
// SEED=n replays a run.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { seededRandom } from "../../../src/storage/conformance/fixtures.js";
import type { Storage } from "../../../src/storage/types.js";
import {
  type CrashVariant,
  crashVariants,
  makeTempDir,
  openCrashVariant,
} from "../../support/storage/backends.js";
import {
  type WorkloadLine,
  parseLine,
  workloadEntry,
} from "../../support/storage/crash-workload.js";

const seed = Number(process.env["SEED"] ?? 424242);
const killsPerBackend = 5;
const childScript = fileURLToPath(new URL("../../support/storage/crash-child.js", import.meta.url));
type DiskKind = CrashVariant;
const open = openCrashVariant;

/** Runs the child until it has confirmed `operations` operations, then SIGKILLs it. */
function runAndKill(kind: DiskKind, dir: string, childSeed: number, operations: number) {
  return new Promise<WorkloadLine[]>((resolve, reject) => {
    const child = spawn(process.execPath, [childScript, kind, dir, String(childSeed)],
      { stdio: ["ignore", "pipe", "pipe"] });
    const lines: WorkloadLine[] = [];
    let pending = "";
    let stderr = "";
    let confirmed = 0;
    child.stderr.on("data", (chunk: Buffer) => { stderr += chunk.toString(); });
    child.stdout.on("data", (chunk: Buffer) => {
      pending += chunk.toString();
      const parts = pending.split("\n");
      pending = parts.pop() ?? "";
      for (const part of parts) {
        const line = parseLine(part);
        lines.push(line);
        if (line.op === line.op.toLowerCase()) confirmed += 1;
      }
      if (confirmed >= operations) child.kill("SIGKILL");
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (signal === "SIGKILL") resolve(lines);
      else reject(new Error(`crash child exited by itself (code ${code}): ${stderr}`));
    });
  });
}

/** What the store may and must hold after the kill, given what the child announced. */
interface Expectation {
  readonly terms: Map<number, number>;
  readonly compactedTerms: Map<number, number>;
  lastMin: number;
  lastMax: number;
  firstMin: number;
  firstMax: number;
  termMin: number;
  termMax: number;
}

async function observe(storage: Storage): Promise<Expectation> {
  const log = storage.log;
  const terms = new Map<number, number>();
  const all = await log.entries(log.firstIndex(), log.lastIndex() + 1, Number.MAX_SAFE_INTEGER);
  for (const entry of all) terms.set(entry.index, entry.term);
  const compactedTerms = new Map([[log.firstIndex() - 1, await log.term(log.firstIndex() - 1)]]);
  const term = storage.stable.get().hardState.term;
  return { terms, compactedTerms, lastMin: log.lastIndex(), lastMax: log.lastIndex(),
    firstMin: log.firstIndex(), firstMax: log.firstIndex(), termMin: term, termMax: term };
}

function apply(expect: Expectation, line: WorkloadLine): void {
  switch (line.op) {
    case "A":
      for (let index = line.from; index <= line.to; index += 1) expect.terms.set(index, line.term);
      expect.lastMax = Math.max(expect.lastMax, line.to);
      return;
    case "a":
      if (line.sync) expect.lastMin = line.to;
      return;
    case "T":
      expect.lastMin = Math.min(expect.lastMin, line.from - 1);
      return;
    case "t":
      expect.lastMax = line.from - 1;
      return;
    case "P":
      expect.compactedTerms.set(line.upTo, line.term);
      expect.firstMax = Math.max(expect.firstMax, line.upTo + 1);
      expect.lastMax = Math.max(expect.lastMax, line.upTo);
      return;
    case "p":
      expect.firstMin = Math.max(expect.firstMin, line.upTo + 1);
      expect.lastMin = Math.max(expect.lastMin, line.upTo);
      return;
    case "S":
      expect.termMax = line.term;
      return;
    case "s":
      expect.termMin = line.term;
      return;
  }
}

async function check(storage: Storage, expect: Expectation): Promise<void> {
  const log = storage.log;
  const first = log.firstIndex();
  const last = log.lastIndex();
  assert.ok(first >= expect.firstMin && first <= expect.firstMax,
    `first index ${first} outside ${expect.firstMin}..${expect.firstMax}`);
  assert.ok(last >= expect.lastMin, `synced entries lost: last index ${last} < ${expect.lastMin}`);
  assert.ok(last <= expect.lastMax, `deleted entries came back: last ${last} > ${expect.lastMax}`);
  const entries = await log.entries(first, last + 1, Number.MAX_SAFE_INTEGER);
  assert.equal(entries.length, last - first + 1, "entries missing between first and last");
  for (const [offset, entry] of entries.entries()) {
    assert.equal(entry.index, first + offset, "a gap in the log");
    assert.equal(entry.term, expect.terms.get(entry.index), `entry ${entry.index}: stale term`);
    assert.deepEqual(entry.data, workloadEntry(entry.index, entry.term).data);
  }
  const pointTerm = expect.compactedTerms.get(first - 1) ?? expect.terms.get(first - 1);
  if (pointTerm !== undefined) assert.equal(await log.term(first - 1), pointTerm);
  const term = storage.stable.get().hardState.term;
  assert.ok(term >= expect.termMin && term <= expect.termMax, `stable term ${term}`);
}

describe("storage under SIGKILL", () => {
  for (const [offset, kind] of crashVariants.entries()) {
    it(`${kind}: every synced entry survives kills at random moments, with no gap`, async (t) => {
      const random = seededRandom(seed + offset);
      const dir = await makeTempDir(`crash-${kind}`);
      let repaired = 0;
      try {
        for (let round = 0; round < killsPerBackend; round += 1) {
          const before = await open(kind, dir);
          const expect = await observe(before);
          await before.close();
          const operations = 5 + Math.floor(random() * 80);
          const childSeed = Math.floor(random() * 2 ** 31);
          const lines = await runAndKill(kind, dir, childSeed, operations);
          for (const line of lines) apply(expect, line);
          const after = await open(kind, dir);
          repaired += after.repairs.length;
          try {
            await check(after, expect);
          } finally {
            await after.close();
          }
          const again = await open(kind, dir);
          assert.deepEqual(again.repairs, [], "a repair was not durable");
          await again.close();
        }
        t.diagnostic(`seed ${seed}: ${killsPerBackend} kills, ${repaired} repairs on reopen`);
      } catch (error) {
        t.diagnostic(`failed with SEED=${seed}`);
        throw error;
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
