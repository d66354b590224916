// Real raft-store clusters for end-to-end tests, benchmarks and chaos runs: each member is a
// `raft-store serve` child process on loopback with its own data directory. Members can be
// killed (SIGKILL), paused (SIGSTOP/SIGCONT), stopped (SIGTERM) and restarted from their data.

import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import http from "node:http";
import https from "node:https";
import { freePorts } from "./tcp-cluster.js";

const mainScript = fileURLToPath(new URL("../../src/cli/main.js", import.meta.url));

export interface ProcessMember {
  readonly id: number;
  readonly dir: string;
  readonly peerPort: number;
  readonly httpPort: number;
  readonly respPort: number;
  /** The address other members dial (a proxy's, when the cluster routes peers through one). */
  readonly advertisedPeer: string;
  process: ChildProcess | null;
  paused: boolean;
}

export interface ProcessClusterOptions {
  readonly size: number;
  /** Members that found the cluster (default all); the others can join() later. */
  readonly founders?: number;
  readonly tickMs?: number;
  readonly electionTicks?: number;
  readonly storage?: string;
  readonly state?: string;
  /** Extra flags for every member. */
  readonly flags?: readonly string[];
  /** Address other members use to reach member `id` (default its own peer port). */
  readonly peerAddress?: (id: number, peerPort: number) => string;
  readonly root?: string;
  readonly keepData?: boolean;
  /** For members serving HTTPS: the CA that signed their certificates. */
  readonly httpsCa?: Buffer;
  /** For members started with --token. */
  readonly token?: string;
  /** Node.js flags for every member (e.g. --cpu-prof). */
  readonly nodeArgs?: (id: number) => readonly string[];
}

/** GET a member's JSON over HTTP or HTTPS (with the cluster's CA and token). */
function getJson(
  url: string,
  ca: Buffer | undefined,
  token: string | undefined,
): Promise<{ status: number; body: unknown }> {
  const headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const get = url.startsWith("https:") ? https.get : http.get;
  return new Promise((resolve, reject) => {
    const req = get(url, { headers, ...(ca === undefined ? {} : { ca }), timeout: 2000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        try {
          resolve({
            status: res.statusCode ?? 0,
            body: JSON.parse(Buffer.concat(chunks).toString()),
          });
        } catch (error) {
          reject(error);
        }
      });
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
  });
}

export class ProcessCluster {
  readonly members = new Map<number, ProcessMember>();
  root = "";

  constructor(readonly o: ProcessClusterOptions) {}

  async start(): Promise<void> {
    this.root = this.o.root ?? (await mkdtemp(join(tmpdir(), "raft-store-proc-")));
    const ports = await freePorts(this.o.size * 3);
    for (let id = 1; id <= this.o.size; id++) {
      const [peerPort, httpPort, respPort] = ports.slice((id - 1) * 3, id * 3) as [
        number,
        number,
        number,
      ];
      const advertisedPeer = this.o.peerAddress?.(id, peerPort) ?? `127.0.0.1:${peerPort}`;
      const dir = join(this.root, `n${id}`);
      mkdirSync(dir, { recursive: true });
      this.members.set(id, {
        id,
        dir,
        peerPort,
        httpPort,
        respPort,
        advertisedPeer,
        process: null,
        paused: false,
      });
    }
    const founders = this.o.founders ?? this.o.size;
    for (let id = 1; id <= founders; id++) this.launch(id);
    await Promise.all(
      [...this.members.values()].filter((m) => m.id <= founders).map((m) => this.waitHttp(m.id)),
    );
  }

  get scheme(): "http" | "https" {
    return this.o.httpsCa === undefined ? "http" : "https";
  }

  member(id: number): ProcessMember {
    const m = this.members.get(id);
    if (m === undefined) throw new Error(`no member ${id}`);
    return m;
  }

  http(id: number): string {
    return `127.0.0.1:${this.member(id).httpPort}`;
  }

  resp(id: number): string {
    return `127.0.0.1:${this.member(id).respPort}`;
  }

  private serveArgs(id: number, via: string | null): string[] {
    const m = this.member(id);
    const founders = this.o.founders ?? this.o.size;
    const cluster = [...this.members.values()]
      .filter((x) => x.id <= founders)
      .map((x) => `${x.id}=${x.advertisedPeer}`)
      .join(",");
    return [
      mainScript,
      "serve",
      "--id",
      String(id),
      "--data",
      m.dir,
      "--peer",
      `127.0.0.1:${m.peerPort}`,
      "--advertise-peer",
      m.advertisedPeer,
      "--http",
      `127.0.0.1:${m.httpPort}`,
      "--resp",
      `127.0.0.1:${m.respPort}`,
      ...(via === null ? ["--initial-cluster", cluster] : ["--join", via]),
      "--tick-ms",
      String(this.o.tickMs ?? 50),
      "--election-ticks",
      String(this.o.electionTicks ?? 10),
      "--storage",
      this.o.storage ?? "wal",
      "--state",
      this.o.state ?? "lmdb",
      "--log-level",
      "info",
      ...(this.o.flags ?? []),
    ];
  }

  /** Starts (or restarts from its data) member `id`; `join` is a member's HTTP address. */
  launch(id: number, via: string | null = null): void {
    const m = this.member(id);
    if (m.process !== null) throw new Error(`member ${id} is running`);
    const log = openSync(join(m.dir, "server.log"), "a");
    const nodeArgs = this.o.nodeArgs?.(id) ?? [];
    const child = spawn(process.execPath, [...nodeArgs, ...this.serveArgs(id, via)], {
      stdio: ["ignore", log, log],
    });
    closeSync(log);
    m.process = child;
    m.paused = false;
    child.on("exit", () => {
      if (m.process === child) m.process = null;
    });
  }

  /** The size of member `id`'s server log: where the lines of its next start will begin. */
  async logSize(id: number): Promise<number> {
    return (await stat(join(this.member(id).dir, "server.log"))).size;
  }

  /** Member `id`'s server log from byte `from` on. */
  async logSince(id: number, from: number): Promise<string> {
    return (await readFile(join(this.member(id).dir, "server.log"))).subarray(from).toString();
  }

  /** Deletes member `id`'s Raft and key-value data (a stopped member), keeping its log file. */
  async emptyData(id: number): Promise<void> {
    for (const dir of ["raft", "kv"]) {
      await rm(join(this.member(id).dir, dir), { recursive: true, force: true });
    }
  }

  /** Starts member `id` from its data and waits for it to exit (refused or stopped itself). */
  runToExit(id: number): Promise<number | null> {
    this.launch(id);
    const child = this.member(id).process;
    if (child === null) throw new Error(`member ${id} did not start`);
    return new Promise((resolve) => child.once("exit", resolve));
  }

  /** Starts member `id` empty and has it join through member `via`. */
  async join(id: number, via: number): Promise<void> {
    this.launch(id, this.http(via));
    await this.waitHttp(id);
  }

  running(id: number): boolean {
    return this.member(id).process !== null;
  }

  async kill(id: number, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const m = this.member(id);
    const child = m.process;
    if (child === null) return;
    if (m.paused) child.kill("SIGCONT");
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill(signal);
    await exited;
    m.process = null;
    m.paused = false;
  }

  pause(id: number): void {
    const m = this.member(id);
    if (m.process === null || m.paused) return;
    m.process.kill("SIGSTOP");
    m.paused = true;
  }

  resume(id: number): void {
    const m = this.member(id);
    if (m.process === null || !m.paused) return;
    m.process.kill("SIGCONT");
    m.paused = false;
  }

  async waitHttp(id: number, ms = 20_000): Promise<void> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (this.member(id).process === null) {
        // The data directory may be gone by the time anyone reads the report: quote the log.
        const log = join(this.member(id).dir, "server.log");
        let tail = "";
        try {
          tail = readFileSync(log, "utf8").split("\n").slice(-12).join("\n");
        } catch {
          tail = "(no log)";
        }
        throw new Error(`member ${id} exited; ${log} ends with:\n${tail}`);
      }
      try {
        const response = await getJson(
          `${this.scheme}://${this.http(id)}/health`,
          this.o.httpsCa,
          this.o.token,
        );
        if (response.status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`member ${id} did not answer /health in ${ms} ms`);
  }

  /** The member every running member agrees leads (and whose endpoints are registered). */
  async waitLeader(ms = 20_000): Promise<number> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      const views = await Promise.all(
        [...this.members.values()]
          .filter((m) => m.process !== null && !m.paused)
          .map(async (m) => {
            try {
              const response = await getJson(
                `${this.scheme}://${this.http(m.id)}/v1/cluster`,
                this.o.httpsCa,
                this.o.token,
              );
              return response.body as {
                leader: string | null;
                members: { id: string; http: string | null }[];
              };
            } catch {
              return null;
            }
          }),
      );
      const leaders = new Set(views.map((v) => v?.leader ?? null));
      const leader = views[0]?.leader ?? null;
      const registered = views.every((v) => v?.members.find((x) => x.id === leader)?.http != null);
      const alive = leader !== null && this.members.get(Number(leader))?.process != null;
      if (leaders.size === 1 && leader !== null && alive && registered) return Number(leader);
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no agreed leader within ${ms} ms`);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.members.keys()].map((id) => this.kill(id, "SIGTERM")));
    if (this.o.keepData !== true && this.o.root === undefined)
      await rm(this.root, { recursive: true, force: true });
  }
}
