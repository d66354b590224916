// The nemesis: plays a planned schedule of faults (nemesis-plan.ts) against a real cluster of
// `serve` processes (ProcessCluster) whose peer links run through a ChaosProxy, one fault at a
// time, and records each as an event {kind, target, start, end} in ns since the run's start.
//   kill        SIGKILL a member, restart it from its data after the fault's duration
//   kill-all    SIGKILL every running member at once (the whole cluster loses power), restart
//               them all after the duration: every acknowledged write must still be there
//   pause       SIGSTOP a member, SIGCONT it after the duration
//   partition   cut peer links in the proxy (split, isolate-leader, bridge, one-way, lossy)
//   membership  remove a non-leader member through the API, wipe its data, and later start it
//               empty with --join; it adds itself back (one change at a time, so a majority of
//               the original members always remains)
//   torn-write  SIGKILL a member, tear the tail of its WAL (torn-write.ts), restart it
//   os-crash    as torn-write, and its LMDB state made to look as an OS crash can leave it
//               (os-crash.ts): the member must rebuild it from its snapshot and log
//   bitflip     SIGKILL a member, flip a byte in a WAL record that intact records follow
//               (bit-flip.ts), start it: it must refuse to, naming the corrupt log; then it is
//               replaced as in membership (removed, wiped, re-joined). A member that starts on
//               the damaged log is counted in `undetected`, and the run fails
// heal() ends everything: links healed, members resumed, restarted or re-joined.

import { readdir, rm } from "node:fs/promises";
import { basename, join } from "node:path";
import { assertNever } from "../../src/assert.js";
import { Sfc32 } from "../../src/core/prng.js";
import type { ProcessCluster } from "../support/process-cluster.js";
import { currentLeader, removeMember, sleep, waitVoter } from "./admin.js";
import { flipMidLog } from "./bit-flip.js";
import { type PlannedFault, describeLinks, partitionLinks } from "./nemesis-plan.js";
import type { ChaosProxy } from "./proxy.js";
import { spoilState } from "./os-crash.js";
import { type TearMode, tearWal, walLogDir } from "./torn-write.js";

export interface NemesisEvent {
  readonly kind: string;
  /** The member(s) the fault hit, e.g. "2" or "1->2 1->3". */
  readonly target: string;
  /** ns since the start of the run. */
  readonly start: number;
  readonly end: number;
  readonly detail: string;
}

export interface NemesisEnv {
  readonly cluster: ProcessCluster;
  readonly proxy: ChaosProxy;
  readonly ids: readonly number[];
  readonly tornMode: TearMode;
  /** ns since the start of the run (the history's clock). */
  readonly now: () => number;
  readonly log: (line: string) => void;
}

const restartWaitMs = 20_000;

export class Nemesis {
  readonly events: NemesisEvent[] = [];
  /** Members removed from the cluster and wiped, not yet back. */
  private readonly removed = new Set<number>();
  /** Members stopped on a corrupt log whose removal was not confirmed: heal() retries it. */
  private readonly corrupt = new Set<number>();
  /** Bit flips a member started on instead of refusing: each one fails the run. */
  undetected = 0;
  private stopping = false;

  constructor(private readonly env: NemesisEnv, private readonly plan: readonly PlannedFault[]) {}

  /** Plays the plan; returns when it is done or stop() was called (after the current fault). */
  async run(): Promise<void> {
    for (const step of this.plan) {
      const waitMs = step.atMs - this.env.now() / 1e6;
      if (waitMs > 0) await this.pause(waitMs);
      if (this.stopping) return;
      try {
        await this.play(step);
      } catch (error) {
        // A fault that cannot be carried out is logged; the run goes on.
        this.env.log(`nemesis ${step.kind} failed: ${(error as Error).message}`);
      }
    }
  }

  stop(): void {
    this.stopping = true;
  }

  /** Ends every fault: links healed, paused members resumed, stopped ones restarted. */
  async heal(): Promise<void> {
    this.stopping = true;
    const { cluster, proxy, ids } = this.env;
    proxy.healAll();
    for (const id of ids) cluster.resume(id);
    for (const id of this.corrupt) {
      if (await removeMember(this.https(id), id)) {
        await wipe(cluster.member(id).dir);
        this.corrupt.delete(id);
        this.removed.add(id);
      }
    }
    for (const id of ids) {
      if (this.removed.has(id)) await this.rejoin(id);
      else if (!cluster.running(id)) await this.restart(id);
    }
  }

  private up(id: number): boolean {
    const { cluster } = this.env;
    return cluster.running(id) && !cluster.member(id).paused && !this.removed.has(id);
  }

  private https(except: number | null = null): string[] {
    return this.env.ids.filter((id) => id !== except && this.up(id))
      .map((id) => this.env.cluster.http(id));
  }

  private leader(): Promise<number | null> {
    return currentLeader(this.https());
  }

  /** The fault's target if it is up (and not `avoid`), else the next up member in its order. */
  private async target(step: PlannedFault, avoid: number | null): Promise<number | null> {
    const wanted = step.target === "leader" ? await this.leader() : step.target;
    const candidates = [...wanted === null ? [] : [wanted], ...step.order];
    return candidates.find((id) => id !== avoid && this.up(id)) ?? null;
  }

  /** Sleeps, but wakes at once when stop() is called before `ms` pass. */
  private async pause(ms: number): Promise<void> {
    const end = Date.now() + ms;
    while (!this.stopping && Date.now() < end) await sleep(Math.min(100, end - Date.now()));
  }

  private record(kind: string, target: string, start: number, detail: string): void {
    const event = { kind, target, start, end: this.env.now(), detail };
    this.events.push(event);
    const seconds = (ns: number): string => (ns / 1e9).toFixed(1);
    this.env.log(`nemesis ${kind} ${target} ${seconds(start)}s-${seconds(event.end)}s ${detail}`);
  }

  private async play(step: PlannedFault): Promise<void> {
    switch (step.kind) {
      case "kill-all":
        return this.crashAll(step);
      case "kill":
      case "torn-write":
      case "os-crash":
        return this.crash(step);
      case "pause":
        return this.freeze(step);
      case "partition":
        return this.cut(step);
      case "membership":
        return this.replace(step);
      case "bitflip":
        return this.rot(step);
      default:
        return assertNever(step.kind, "nemesis kind");
    }
  }

  private async crash(step: PlannedFault): Promise<void> {
    const id = await this.target(step, null);
    if (id === null) return this.env.log(`nemesis ${step.kind}: no member up to crash`);
    const start = this.env.now();
    await this.env.cluster.kill(id, "SIGKILL");
    let detail = "";
    if (step.kind === "torn-write" || step.kind === "os-crash") {
      const torn = await tearWal(walLogDir(this.env.cluster.member(id).dir), this.env.tornMode);
      detail = torn === null
        ? "no record to tear"
        : `${torn.mode}: ${basename(torn.segment)} ${torn.sizeBefore} -> ${torn.sizeAfter} bytes`;
    }
    if (step.kind === "os-crash") {
      detail = `${detail}, ${await spoilState(this.env.cluster.member(id).dir)}`;
    }
    await this.pause(step.durationMs);
    detail = `${detail} ${await this.restart(id)}`.trim();
    this.record(step.kind, String(id), start, detail);
  }

  /** SIGKILLs every running member at once and, after the fault's duration, restarts them all. */
  private async crashAll(step: PlannedFault): Promise<void> {
    const { cluster, ids } = this.env;
    const victims = ids.filter((id) => cluster.running(id) && !this.removed.has(id));
    if (victims.length === 0) return this.env.log("nemesis kill-all: no member up to crash");
    const start = this.env.now();
    await Promise.all(victims.map((id) => cluster.kill(id, "SIGKILL")));
    await this.pause(step.durationMs);
    const notes = await Promise.all(victims.map((id) => this.restart(id)));
    const failed = victims.filter((_, k) => notes[k] !== "restarted");
    const detail = failed.length === 0 ? "all restarted" : `did not restart: ${failed.join(",")}`;
    this.record("kill-all", victims.join(","), start, detail);
  }

  /** Starts a stopped member from its data; returns a note on how that went. */
  private async restart(id: number): Promise<string> {
    const { cluster } = this.env;
    try {
      if (!cluster.running(id)) cluster.launch(id);
      await cluster.waitHttp(id, restartWaitMs);
      return "restarted";
    } catch (error) {
      this.env.log(`member ${id} did not come back: ${(error as Error).message}`);
      return "did not restart";
    }
  }

  private async freeze(step: PlannedFault): Promise<void> {
    const id = await this.target(step, null);
    if (id === null) return this.env.log("nemesis pause: no member up to pause");
    const start = this.env.now();
    this.env.cluster.pause(id);
    await this.pause(step.durationMs);
    this.env.cluster.resume(id);
    this.record("pause", String(id), start, "");
  }

  private async cut(step: PlannedFault): Promise<void> {
    const shape = step.shape ?? "split";
    const leader = step.target === "leader" ? await this.leader() : null;
    const changes = partitionLinks(shape, step.order, leader);
    const start = this.env.now();
    for (const change of changes) this.env.proxy.setLink(change.from, change.to, change.fault);
    await this.pause(step.durationMs);
    this.env.proxy.healAll();
    const who = leader === null ? "" : ` (leader ${leader})`;
    this.record(`partition:${shape}`, describeLinks(changes), start, `${shape}${who}`);
  }

  private async replace(step: PlannedFault): Promise<void> {
    const leader = await this.leader();
    if (leader === null) return this.env.log("nemesis membership: no leader, skipped");
    const id = await this.target(step, leader);
    if (id === null || this.removed.size > 0 || this.corrupt.size > 0) {
      return this.env.log("nemesis membership: no member to replace, skipped");
    }
    const start = this.env.now();
    if (!(await removeMember(this.https(id), id))) {
      this.record("membership", String(id), start, "removal not confirmed; member left in place");
      return;
    }
    await this.env.cluster.kill(id, "SIGKILL");
    const detail = await this.wipeAndRejoin(id, step.durationMs);
    this.record("membership", String(id), start, `removed, ${detail}`);
  }

  /** Wipes a removed (and stopped) member, waits `ms`, and re-joins it; says how that went. */
  private async wipeAndRejoin(id: number, ms: number): Promise<string> {
    await wipe(this.env.cluster.member(id).dir);
    this.removed.add(id);
    await this.pause(ms);
    return await this.rejoin(id) ? "wiped, re-joined" : "wiped; re-join pending";
  }

  private async rot(step: PlannedFault): Promise<void> {
    const id = await this.target(step, null);
    if (id === null || this.removed.size > 0 || this.corrupt.size > 0) {
      return this.env.log("nemesis bitflip: no member to damage, skipped");
    }
    const { cluster } = this.env;
    const start = this.env.now();
    await cluster.kill(id, "SIGKILL");
    const flip = await flipMidLog(walLogDir(cluster.member(id).dir),
      new Sfc32(step.atMs * 7919 + step.durationMs));
    if (flip === null) {
      const back = await this.restart(id);
      return this.record("bitflip", String(id), start, `no record to damage; ${back}`);
    }
    const where =
      `${basename(flip.segment)} byte ${flip.flippedAt} (record at ${flip.recordOffset})`;
    const refusal = await this.refusal(id, basename(flip.segment));
    if (refusal === null) {
      this.undetected += 1;
      this.env.log(`nemesis bitflip: member ${id} STARTED on a log with ${where} flipped`);
      await cluster.kill(id, "SIGKILL");
    }
    const seen = refusal === null ? "started anyway (UNDETECTED)" : "refused to start";
    if (!(await removeMember(this.https(id), id))) {
      this.corrupt.add(id);
      return this.record("bitflip", String(id), start,
        `${where}: ${seen}; removal not confirmed, left stopped`);
    }
    const detail = await this.wipeAndRejoin(id, step.durationMs);
    this.record("bitflip", String(id), start, `${where}: ${seen}; removed, ${detail}`);
  }

  /**
   * Starts member `id` on its damaged log and returns the line of its log that names the
   * corrupt `segment` once it has exited with code 1; null when it started serving instead, or
   * exited without naming it.
   */
  private async refusal(id: number, segment: string): Promise<string | null> {
    const { cluster } = this.env;
    const from = await cluster.logSize(id);
    cluster.launch(id);
    const child = cluster.member(id).process;
    if (child === null) return null;
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    const served = cluster.waitHttp(id, restartWaitMs).then(() => "served" as const,
      () => "silent" as const);
    const outcome = await Promise.race([exited, served]);
    if (outcome === "served" || outcome === "silent") return null;
    const log = await cluster.logSince(id, from);
    const line = log.split("\n").find((l) => l.includes("corrupt log") && l.includes(segment));
    return outcome === 1 && line !== undefined ? line : null;
  }

  /** Starts a wiped member empty with --join through an up member; true once it is a voter. */
  private async rejoin(id: number): Promise<boolean> {
    const { cluster } = this.env;
    const via = this.env.ids.find((other) => other !== id && this.up(other));
    if (via === undefined) return false;
    try {
      if (!cluster.running(id)) await cluster.join(id, via);
    } catch (error) {
      this.env.log(`member ${id} did not re-join: ${(error as Error).message}`);
      return false;
    }
    const voter = await waitVoter(() => this.https(id), id, restartWaitMs);
    if (voter) this.removed.delete(id);
    return voter;
  }
}

/** Deletes a member's data but keeps its server log (appended to across restarts). */
async function wipe(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    if (name === "server.log") continue;
    await rm(join(dir, name), { recursive: true, force: true });
  }
}
