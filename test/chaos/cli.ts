// The chaos command (CONTRACTS.md "Chaos"):
//   npm run chaos -- --nodes K --seconds T --nemesis a,b,c --seed S [--out DIR]
//     [--workload register|set] [--reads linearizable|lease|mixed] [--clients N]
//     [--planted-bug stale-reads|long-lease]
//     [--torn-write append|cut] [--state lmdb|memory] [--storage wal|lmdb|level] [--keep-data]
//     [--scenario stale-read [--isolation partition|pause]]
// Progress lines first; the last line is one JSON object; exit 1 when the history is not
// linearizable, an acknowledged write was lost or a member started on a log the bitflip nemesis
// had damaged; 2 on bad arguments or a run that broke.

import { parseArgs } from "node:util";
import { type DiskStorageKind, diskStorageKinds } from "../../src/storage/types.js";
import { ChaosCluster } from "./chaos-cluster.js";
import { type NemesisKind, isNemesisKind, nemesisKinds } from "./nemesis-plan.js";
import {
  type ChaosOptions,
  type PlantedBug,
  defaultChaosOptions,
  plantedBugs,
  runChaos,
} from "./runner.js";
import { runStaleRead } from "./stale-read.js";
import type { TearMode } from "./torn-write.js";
import { type ReadMode, type WorkloadKind, readModes } from "./workload.js";

const usage = `usage: npm run chaos -- --nodes K --seconds T --nemesis ${nemesisKinds.join(",")}
  --seed S [--out DIR] [--workload register|set] [--reads linearizable|lease|mixed]
  [--clients N] [--planted-bug stale-reads|long-lease]
  [--torn-write append|cut] [--state lmdb|memory] [--storage wal|lmdb|level] [--keep-data]
  [--scenario stale-read [--isolation partition|pause]]`;

class UsageError extends Error {}

function integer(text: string | undefined, name: string, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`--${name} "${text}" must be an integer >= ${min}`);
  }
  return value;
}

function oneOf<T extends string>(text: string | undefined, name: string, options: readonly T[],
  fallback: T): T {
  if (text === undefined) return fallback;
  if (!(options as readonly string[]).includes(text)) {
    throw new UsageError(`--${name} "${text}": use one of ${options.join(", ")}`);
  }
  return text as T;
}

function kinds(text: string | undefined): NemesisKind[] {
  if (text === undefined) return [...defaultChaosOptions.nemesis];
  const names = text.split(",").map((s) => s.trim()).filter((s) => s !== "" && s !== "none");
  for (const name of names) {
    if (!isNemesisKind(name)) {
      throw new UsageError(`--nemesis "${name}": use ${nemesisKinds.join(", ")} (comma-separated)`);
    }
  }
  return names as NemesisKind[];
}

interface Parsed {
  readonly options: ChaosOptions;
  readonly scenario: string | null;
  /** How the stale-read scenario cuts the leader off. */
  readonly isolation: "partition" | "pause";
}

function parse(argv: string[]): Parsed {
  const { values } = parseArgs({
    args: argv,
    options: {
      nodes: { type: "string" }, seconds: { type: "string" }, nemesis: { type: "string" },
      seed: { type: "string" }, out: { type: "string" }, workload: { type: "string" },
      reads: { type: "string" },
      clients: { type: "string" }, "planted-bug": { type: "string" },
      "torn-write": { type: "string" }, state: { type: "string" }, storage: { type: "string" },
      "keep-data": { type: "boolean" },
      scenario: { type: "string" }, isolation: { type: "string" }, help: { type: "boolean" },
    },
    strict: true,
  });
  if (values.help === true) throw new UsageError("");
  const d = defaultChaosOptions;
  const options: ChaosOptions = {
    nodes: integer(values.nodes, "nodes", d.nodes, 1),
    seconds: integer(values.seconds, "seconds", d.seconds, 1),
    nemesis: kinds(values.nemesis),
    seed: integer(values.seed, "seed", d.seed, 0),
    out: values.out ?? null,
    workload: oneOf<WorkloadKind>(values.workload, "workload", ["register", "set"], "register"),
    reads: oneOf<ReadMode>(values.reads, "reads", readModes, d.reads),
    plantedBug: values["planted-bug"] === undefined
      ? null
      : oneOf<PlantedBug>(values["planted-bug"], "planted-bug", plantedBugs, "stale-reads"),
    clients: integer(values.clients, "clients", d.clients, 1),
    tornMode: oneOf<TearMode>(values["torn-write"], "torn-write", ["append", "cut"], "append"),
    state: oneOf(values.state, "state", ["lmdb", "memory"] as const, d.state),
    storage: oneOf<DiskStorageKind>(values.storage, "storage", diskStorageKinds, d.storage),
    keepData: values["keep-data"] === true,
  };
  const walFaults = options.nemesis.filter((kind) => kind === "torn-write" || kind === "bitflip");
  if (options.storage !== "wal" && walFaults.length > 0) {
    throw new UsageError(`--nemesis ${walFaults.join(",")} damages WAL files: it needs ` +
      `--storage wal, not ${options.storage}`);
  }
  const scenario = values.scenario === undefined
    ? null
    : oneOf(values.scenario, "scenario", ["stale-read"], "stale-read");
  const isolation = oneOf(values.isolation, "isolation", ["partition", "pause"] as const,
    "partition");
  if (values.isolation !== undefined && scenario === null) {
    throw new UsageError("--isolation is an option of --scenario stale-read");
  }
  return { options, scenario, isolation };
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(process.argv.slice(2));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${message === "" ? "" : `${message}\n`}${usage}\n`);
    return 2;
  }
  const { options, scenario, isolation } = parsed;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      ChaosCluster.killAllNow();
      process.stderr.write(`chaos: ${signal}: members killed, stopping\n`);
      process.exit(130);
    });
  }
  const log = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  if (scenario === "stale-read") {
    const result = await runStaleRead(
      {
        seed: options.seed, plantedBug: options.plantedBug, out: options.out,
        reads: options.reads === "lease" ? "lease" : "linearizable", isolation,
      }, log);
    log(JSON.stringify({ ...result.summary, scenario, staleValue: result.staleValue }));
    return result.summary.linearizable && result.summary.lost === 0 ? 0 : 1;
  }
  const result = await runChaos(options, log);
  log(JSON.stringify(result.summary));
  const { linearizable, lost } = result.summary;
  return linearizable && lost === 0 && result.undetected === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const why = error instanceof Error ? error.stack : String(error);
    process.stderr.write(`chaos run failed: ${why}\n`);
    process.exitCode = 2;
  },
);
