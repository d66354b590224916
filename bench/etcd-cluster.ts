// A 3-member etcd cluster on loopback for side-by-side benchmarks: installed from Debian's
// `etcd-server` package when missing, fsync on (etcd's default), data in a temporary directory.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, openSync, closeSync } from "node:fs";
import { join } from "node:path";
import { freePorts } from "../test/support/tcp-cluster.js";

/** The etcd binary, installing `etcd-server` with apt-get when it is missing (needs root). */
export function ensureEtcd(log: (text: string) => void): string {
  const find = (): string | null => {
    try {
      return execFileSync("sh", ["-c", "command -v etcd"]).toString().trim() || null;
    } catch {
      return null;
    }
  };
  const found = find();
  if (found !== null) return found;
  log("etcd is missing: installing Debian's etcd-server package (apt-get)");
  const sudo = process.getuid?.() === 0 ? [] : ["sudo", "-n"];
  const run = (args: string[]): void => {
    const [command, ...rest] = [...sudo, ...args];
    execFileSync(command ?? "apt-get", rest, {
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
  };
  run(["apt-get", "update", "-q"]);
  run(["apt-get", "install", "-y", "-q", "etcd-server"]);
  const installed = find();
  if (installed === null)
    throw new Error("etcd-server was installed but no etcd binary is on the PATH");
  return installed;
}

/** etcd processes still running: killed if the benchmark ends early (Ctrl-C, SIGTERM, a crash). */
const running = new Set<ChildProcess>();
let hooked = false;

function track(child: ChildProcess): ChildProcess {
  if (!hooked) {
    hooked = true;
    process.once("exit", () => {
      for (const orphan of running) orphan.kill("SIGKILL");
    });
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.once(signal, () => process.exit(130));
    }
  }
  running.add(child);
  child.once("exit", () => running.delete(child));
  return child;
}

export class EtcdCluster {
  private readonly children: ChildProcess[] = [];
  clientPorts: number[] = [];

  constructor(
    private readonly binary: string,
    private readonly root: string,
  ) {}

  async start(): Promise<void> {
    const ports = await freePorts(6);
    this.clientPorts = ports.slice(0, 3);
    const peerPorts = ports.slice(3);
    const initial = peerPorts.map((p, i) => `e${i + 1}=http://127.0.0.1:${p}`).join(",");
    for (let i = 0; i < 3; i++) {
      const dir = join(this.root, `etcd-${i + 1}`);
      mkdirSync(dir, { recursive: true });
      const log = openSync(join(dir, "etcd.log"), "a");
      const client = `http://127.0.0.1:${this.clientPorts[i]}`;
      const peer = `http://127.0.0.1:${peerPorts[i]}`;
      this.children.push(
        track(spawn(
          this.binary,
          [
            "--name",
            `e${i + 1}`,
            "--data-dir",
            join(dir, "data"),
            "--listen-client-urls",
            client,
            "--advertise-client-urls",
            client,
            "--listen-peer-urls",
            peer,
            "--initial-advertise-peer-urls",
            peer,
            "--initial-cluster",
            initial,
            "--initial-cluster-state",
            "new",
            "--initial-cluster-token",
            "raft-store-bench",
            "--log-level",
            "warn",
            "--logger",
            "zap",
          ],
          { stdio: ["ignore", log, log] },
        )),
      );
      closeSync(log);
    }
    await this.waitHealthy(30_000);
  }

  endpoint(i: number): string {
    return `127.0.0.1:${this.clientPorts[i]}`;
  }

  private async waitHealthy(ms: number): Promise<void> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const healthy = await Promise.all(
        this.clientPorts.map(async (port) => {
          try {
            const response = await fetch(`http://127.0.0.1:${port}/health`);
            return ((await response.json()) as { health?: string }).health === "true";
          } catch {
            return false;
          }
        }),
      );
      if (healthy.every(Boolean)) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`etcd did not become healthy in ${ms} ms (logs under ${this.root})`);
  }

  /** The index (0..2) of the member that leads, from the maintenance status API. */
  async leader(): Promise<number> {
    for (let i = 0; i < 3; i++) {
      try {
        const response = await fetch(`http://${this.endpoint(i)}/v3/maintenance/status`, {
          method: "POST",
          body: "{}",
        });
        const status = (await response.json()) as {
          leader?: string;
          header?: { member_id?: string };
        };
        if (status.leader !== undefined && status.leader === status.header?.member_id) return i;
      } catch {
        // try the next member
      }
    }
    return 0;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once("exit", () => resolve());
            child.kill("SIGTERM");
          }),
      ),
    );
  }
}
