// The benchmark dispatcher: `node dist/bench/run.js <suite> [options]`. Each suite is a module
// in this directory exporting `run(args)`; add a suite by adding its file and a line below.

import { BenchOptionError } from "./report.js";

interface Suite {
  run(args: readonly string[]): Promise<void>;
}

const suites: Record<string, () => Promise<Suite>> = {
  storage: () => import("./storage.js"),
  cluster: () => import("./cluster.js"),
  snapshot: () => import("./snapshot.js"),
  server: () => import("./server.js"),
  "compare-etcd": () => import("./compare-etcd.js"),
  apply: () => import("./apply.js"),
  "resp-floor": () => import("./resp-floor.js"),
};

async function main(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  const load = name === undefined ? undefined : suites[name];
  if (load === undefined) {
    const known = Object.keys(suites).join(", ");
    const asked = JSON.stringify(name ?? "");
    process.stderr.write(`unknown benchmark suite ${asked}; suites: ${known}\n`);
    process.exitCode = 2;
    return;
  }
  try {
    await (await load()).run(args);
  } catch (error) {
    if (!(error instanceof BenchOptionError)) throw error;
    process.stderr.write(`npm run bench -- ${name}: ${error.message}\n`);
    process.exitCode = 2;
  }
}

await main();
