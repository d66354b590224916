// The process the crash test kills: it opens a store and runs a seeded random workload of
// appends (synced or not, sometimes several in flight), suffix and prefix deletions and term
// changes until SIGKILL. Each
// operation is announced on stdout before it starts and confirmed after it resolves, with
// synchronous writes, so the parent knows exactly what was promised when the kill landed.
// Usage: node crash-child.js <variant> <dir> <seed> (a variant of crashVariants)

import { writeSync } from "node:fs";
import type { Storage } from "../../../src/storage/types.js";
import { seededRandom } from "../../../src/storage/conformance/fixtures.js";
import { type WorkloadLine, formatLine, workloadEntry } from "./crash-workload.js";
import { type CrashVariant, crashVariants, openCrashVariant } from "./backends.js";

function say(line: WorkloadLine): void {
  const bytes = Buffer.from(`${formatLine(line)}\n`);
  for (let written = 0; written < bytes.length;) {
    try {
      written += writeSync(1, bytes, written);
    } catch (error) {
      // The pipe may be non-blocking; wait for the parent to read rather than lose a line.
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN") throw error;
    }
  }
}

/** Announces, issues and (once it resolves) confirms one append; does not wait to return. */
function append(storage: Storage, from: number, to: number, term: number, sync: boolean) {
  const entries = [];
  for (let index = from; index <= to; index += 1) entries.push(workloadEntry(index, term));
  say({ op: "A", from, to, term, sync });
  // Every other append carries the overlap hint, so the WAL's "auto" mode mixes pool and inline
  // writes (the other modes and backends ignore it); parity keeps the seeded sequence unchanged.
  const overlap = from % 2 === 0;
  return storage.log.append(entries, { sync, overlap })
    .then(() => say({ op: "a", from, to, term, sync }));
}

async function step(storage: Storage, random: () => number): Promise<void> {
  const { log, stable } = storage;
  const roll = random();
  const first = log.firstIndex();
  const last = log.lastIndex();
  const term = stable.get().hardState.term;
  if (roll < 0.72) {
    // Sometimes several appends in flight at once, as a pipelining driver issues them: the WAL
    // writes those queued behind an fdatasync as one group.
    const inFlight = random() < 0.3 ? 2 + Math.floor(random() * 3) : 1;
    const appends: Promise<void>[] = [];
    let from = last + 1;
    for (let k = 0; k < inFlight; k += 1) {
      const to = from + Math.floor(random() * 32);
      appends.push(append(storage, from, to, term, random() < 0.7));
      from = to + 1;
    }
    await Promise.all(appends);
  } else if (roll < 0.84 && last >= first) {
    const from = Math.max(first, last - Math.floor(random() * 12));
    say({ op: "T", from });
    await log.truncateSuffix(from);
    say({ op: "t", from });
  } else if (roll < 0.9) {
    const beyond = random() < 0.3;
    const upTo = beyond ? last + 1 + Math.floor(random() * 5)
      : first - 1 + Math.floor(random() * (last - first + 2));
    const upToTerm = beyond ? term : await log.term(upTo);
    say({ op: "P", upTo, term: upToTerm });
    await log.truncatePrefix(upTo, upToTerm);
    say({ op: "p", upTo, term: upToTerm });
  } else {
    say({ op: "S", term: term + 1 });
    await stable.set({ hardState: { term: term + 1, vote: null, commit: 0 } });
    say({ op: "s", term: term + 1 });
  }
}

async function main(): Promise<void> {
  const [kind, dir, seedText] = process.argv.slice(2);
  if (kind === undefined || dir === undefined || seedText === undefined) {
    throw new Error("usage: crash-child <kind> <dir> <seed>");
  }
  if (!(crashVariants as readonly string[]).includes(kind)) throw new Error(`unknown variant ${kind}`);
  const storage = await openCrashVariant(kind as CrashVariant, dir);
  const random = seededRandom(Number(seedText));
  // Runs until the parent's SIGKILL; the parent never lets it finish.
  for (;;) await step(storage, random);
}

await main();
