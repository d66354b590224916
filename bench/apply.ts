// `npm run bench -- apply [--entries 60000] [--batches 16,64,256,1024] [--keys 10000]
//  [--value-bytes 256] [--dir D]`: the CPU cost of the key-value state machine, one process, no
// disk waits (LMDB is opened noSync, as the server opens it):
//   encode  encodeCommand of a put with nowMs (what the leader does for every proposal)
//   decode  decodeCommand of the same bytes (what every replica does for every entry it applies)
//   apply   applyBatch of puts over --keys random keys, in batches of --batch entries, for the
//           memory and the LMDB state machines, after a warm-up that writes every key once;
//           backend "lmdb" writes through the memory map as the server does on Linux,
//           "lmdb-nomap" without it (writeMap false, src/kv/lmdb-writemap.ts)
// Each line carries `cpuUsPerOp`: user + system CPU microseconds per command (or per applied
// entry), measured with process.cpuUsage, which a busy neighbour on a shared machine disturbs far
// less than it disturbs wall-clock rates. p50/p99/max are per applyBatch call.

import { mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { decodeCommand, encodeCommand } from "../src/kv/command.js";
import { type KvStore, openKvStateMachine } from "../src/kv/kv-store.js";
import type { Command } from "../src/kv/types.js";
import type { AppliedEntry } from "../src/node/ports.js";
import { seededRandom } from "../src/random.js";
import {
  type BenchLine,
  directoryOption,
  integerList,
  latency,
  parseOptions,
  positiveInteger,
  printLine,
  round,
} from "./report.js";

interface Setup {
  readonly entries: number;
  readonly keys: number;
  readonly value: string;
  readonly dir: string;
}

function line(name: string, backend: string | null, batch: number | null, ops: number,
  cpuMicros: number, wallMs: number, samples: readonly number[] | null): BenchLine {
  const stats = samples === null ? { p50Ms: null, p99Ms: null, maxMs: null } : latency(samples);
  return {
    suite: "apply", case: name, system: "raft-store", backend, batch, clients: null,
    opsPerSec: round(ops / (wallMs / 1000), 1), mbPerSec: null, ...stats, errors: 0,
    seconds: round(wallMs / 1000), ratio: null, ratioTo: null,
    cpuUsPerOp: round(cpuMicros / ops), ops,
  };
}

/** Runs `body` and returns its CPU microseconds (user + system) and wall milliseconds. */
async function measure(body: () => void | Promise<void>):
  Promise<{ cpuMicros: number; wallMs: number }> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  await body();
  const used = process.cpuUsage(cpu);
  return { cpuMicros: used.user + used.system, wallMs: performance.now() - start };
}

/** Seeded puts of `value` to keys "key-0" .. "key-(keys-1)", as a leader would propose them. */
function puts(s: Setup, count: number, random: () => number): Command[] {
  const commands: Command[] = [];
  for (let i = 0; i < count; i++) {
    commands.push({ kind: "put", key: `key-${Math.floor(random() * s.keys)}`, value: s.value,
      nowMs: 1_700_000_000_000 + i });
  }
  return commands;
}

/** Passes over the commands in the codec cases: about a million commands, at least one pass. */
function codecPasses(s: Setup): number {
  return Math.max(1, Math.round(1_000_000 / s.entries));
}

async function codecCases(s: Setup): Promise<void> {
  const commands = puts(s, s.entries, seededRandom(1));
  const passes = codecPasses(s);
  const ops = passes * commands.length;
  const encoded: Uint8Array[] = new Array<Uint8Array>(commands.length);
  const encodeAll = (): void => {
    for (let pass = 0; pass < passes; pass++) {
      commands.forEach((command, i) => {
        encoded[i] = encodeCommand(command);
      });
    }
  };
  encodeAll(); // warm-up
  const encoding = await measure(encodeAll);
  printLine(line("encode", null, null, ops, encoding.cpuMicros, encoding.wallMs, null));
  let keyBytes = 0;
  const decodeAll = (): void => {
    for (let pass = 0; pass < passes; pass++) {
      for (const bytes of encoded) {
        const command = decodeCommand(bytes);
        if (command.kind === "put") keyBytes += command.key.length;
      }
    }
  };
  decodeAll(); // warm-up
  const decoding = await measure(decodeAll);
  if (keyBytes === 0) throw new Error("decoded no put");
  printLine(line("decode", null, null, ops, decoding.cpuMicros, decoding.wallMs, null));
}

/** "lmdb" as the server runs it (writes through the memory map); "lmdb-nomap" without. */
type ApplyKind = "memory" | "lmdb" | "lmdb-nomap";

async function applyCase(s: Setup, kind: ApplyKind, batch: number): Promise<void> {
  const dir = await mkdtemp(join(s.dir, "raft-store-apply-"));
  const store: KvStore = kind === "memory"
    ? await openKvStateMachine({ kind })
    : await openKvStateMachine({ kind: "lmdb", dir, writeMap: kind === "lmdb" });
  try {
    const random = seededRandom(batch);
    let index = 0;
    const batchOf = (commands: readonly Command[]): AppliedEntry[] =>
      commands.map((command) => ({ index: ++index, term: 1, data: encodeCommand(command) }));
    const applyAll = async (batches: readonly AppliedEntry[][], samples: number[]):
      Promise<void> => {
      for (const entries of batches) {
        const start = performance.now();
        // Both state machines apply synchronously; the await only unwraps the type.
        const results = store.applyBatch === undefined
          ? entries.map((entry) => store.apply(entry))
          : await store.applyBatch(entries);
        if (results.length !== entries.length) throw new Error("a result per entry");
        samples.push(performance.now() - start);
      }
    };
    const split = (commands: readonly Command[]): AppliedEntry[][] => {
      const batches: AppliedEntry[][] = [];
      for (let i = 0; i < commands.length; i += batch) {
        batches.push(batchOf(commands.slice(i, i + batch)));
      }
      return batches;
    };
    // Warm-up: every key written once (so each put replaces a record), and the JIT settled.
    const warm = Array.from({ length: s.keys }, (_, k): Command =>
      ({ kind: "put", key: `key-${k}`, value: s.value, nowMs: 1 }));
    await applyAll(split([...warm, ...puts(s, Math.min(s.entries, 20_000), random)]), []);
    const batches = split(puts(s, s.entries, random));
    const samples: number[] = [];
    const used = await measure(() => applyAll(batches, samples));
    printLine(line("apply", kind, batch, s.entries, used.cpuMicros, used.wallMs, samples));
  } finally {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function run(args: readonly string[]): Promise<void> {
  const options = parseOptions(args, ["entries", "batches", "keys", "value-bytes", "dir"]);
  const batches = integerList(options, "batches", "16,64,256,1024");
  const setup: Setup = {
    entries: positiveInteger(options, "entries", 60_000),
    keys: positiveInteger(options, "keys", 10_000),
    value: "v".repeat(positiveInteger(options, "value-bytes", 256)),
    dir: await directoryOption(options),
  };
  await codecCases(setup);
  for (const kind of ["memory", "lmdb", "lmdb-nomap"] as const) {
    for (const batch of batches) await applyCase(setup, kind, batch);
  }
}
