// A small language for scripted Raft scenarios over the simulated cluster. Each line is one
// command; `expect` lines assert the state. The safety checker watches every step, so a script
// fails on any violation unless the next line is `expect-violation <text>`.
//
//   cluster 3 [spares=N] [prevote=on|off] [checkquorum=on|off] [election=10] [heartbeat=1] [maxentries=N]
//             [inflight=N] [bug=<planted bug>] [seed=S]
//   elect ID            campaign at ID and deliver everything; ID must end up leader
//   campaign ID         campaign at ID (messages stay queued)
//   tick ID|all [xN]    tick without delivering anything
//   run xN              N rounds of: deliver what is due, tick every node
//   stabilize           deliver every message, and the answers, until none is left
//   deliver A B [N]     deliver up to N queued messages on link A->B (answers stay queued)
//   drop A B | drop all discard queued messages
//   propose ID cmd...   propose commands at ID (it must be the leader); `propose ID xN` makes N
//   transfer ID TARGET  leader ID starts a leadership transfer to TARGET
//   propose-refused ID WORDS-OF-THE-ERROR   a proposal at ID must be refused
//   isolate ID | partition 1,2 3,4,5 | cut A B (one way) | heal
//   crash ID [before-persist|after-persist] | restart ID
//   expect ID key=value ...   keys: role term leader vote commit applied last log (terms: 1,1,2)
//   expect-leader ID|any      exactly one leader among running nodes, followed by all the others
//   expect-rejections <=N     Append rejections delivered so far (fast backtracking)
//   conf ID [joint|leave] add-voter:N add-learner:N remove:N   a membership change at leader ID
//   conf-refused ID WORDS-OF-THE-ERROR change...               the same, which must be refused
//   (expect also knows voters= outgoing= learners=, comma lists or "none")
//   expect-violation TEXT

import { Violation } from "../../src/sim/checker.js";
import { Cluster } from "../../src/sim/cluster.js";
import { CrashPoint } from "../../src/sim/sim-node.js";
import type { PlantedBugs } from "../../src/core/config.js";
import { Role, roleName } from "../../src/core/ready.js";
import { type NodeId, nodeId } from "../../src/core/types.js";

export class ScenarioError extends Error {}

type Options = Record<string, string>;

function parseOptions(words: readonly string[]): Options {
  const out: Options = {};
  for (const w of words) {
    const [k, v] = w.split("=");
    if (k === undefined || v === undefined) throw new ScenarioError(`bad option ${w}`);
    out[k] = v;
  }
  return out;
}

function onOff(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (value !== "on" && value !== "off") throw new ScenarioError(`expected on|off, got ${value}`);
  return value === "on";
}

function repeat(word: string | undefined): number {
  if (word === undefined) return 1;
  if (!/^x\d+$/.test(word)) throw new ScenarioError(`expected xN, got ${word}`);
  return Number(word.slice(1));
}

export class ScenarioRunner {
  private cluster: Cluster | null = null;
  private violation: string | null = null;
  private commandSeq = 0;
  readonly transcript: string[] = [];

  run(script: string): void {
    const lines = script.split("\n");
    lines.forEach((raw, i) => {
      const line = raw.replace(/#.*/, "").trim();
      if (line === "") return;
      this.transcript.push(line);
      try {
        this.line(line);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new ScenarioError(`line ${i + 1}: ${line}\n  ${message}\n${this.dump()}`);
      }
    });
    if (this.violation !== null) throw new ScenarioError(`unexpected violation: ${this.violation}`);
  }

  private get c(): Cluster {
    if (this.cluster === null) throw new ScenarioError("no cluster: start with `cluster N`");
    return this.cluster;
  }

  private line(line: string): void {
    const [command = "", ...args] = line.split(/\s+/);
    if (command === "expect-violation") {
      const text = args.join(" ");
      if (this.violation === null || !this.violation.includes(text)) {
        throw new ScenarioError(`expected a violation containing "${text}", got ${this.violation}`);
      }
      this.violation = null;
      return;
    }
    if (this.violation !== null) throw new ScenarioError(`unexpected violation: ${this.violation}`);
    try {
      this.command(command, args);
    } catch (error) {
      if (!(error instanceof Violation)) throw error;
      this.violation = error.message;
    }
  }

  private command(command: string, args: string[]): void {
    const id = (i: number): NodeId => nodeId(Number(args[i]));
    switch (command) {
      case "cluster":
        this.cluster = this.makeCluster(Number(args[0]), parseOptions(args.slice(1)));
        return;
      case "elect":
        this.elect(id(0));
        return;
      case "campaign":
        this.c.node(id(0)).raft?.startElection();
        this.c.process(this.c.node(id(0)));
        return;
      case "tick":
        return this.tick(args[0] ?? "", repeat(args[1]));
      case "run":
        for (let n = repeat(args[0]); n > 0; n--) this.c.tick();
        return;
      case "stabilize":
        this.c.stabilize();
        return;
      case "deliver":
        for (const m of this.c.network.takeLink(id(0), id(1), Number(args[2] ?? Infinity))) {
          this.c.deliver(m);
        }
        return;
      case "drop":
        if (args[0] === "all") this.c.network.discard();
        else this.c.network.discard((m) => m.from === id(0) && m.to === id(1));
        return;
      default:
        this.faultOrExpect(command, args, id);
    }
  }

  private faultOrExpect(command: string, args: string[], id: (i: number) => NodeId): void {
    const c = this.c;
    switch (command) {
      case "propose":
        return this.propose(id(0), args.slice(1));
      case "propose-refused": {
        const raft = c.node(id(0)).raft;
        try {
          raft?.propose([new TextEncoder().encode("refused")]);
        } catch (error) {
          const words = (args[1] ?? "").replace(/-/g, " ");
          const message = error instanceof Error ? error.message : String(error);
          if (!message.includes(words)) throw new ScenarioError(`refused with "${message}", not "${words}"`);
          return;
        }
        throw new ScenarioError("the proposal was accepted");
      }
      case "transfer": {
        const node = c.node(id(0));
        node.raft?.transferLeadership(id(1));
        c.process(node);
        return;
      }
      case "isolate":
        return c.network.isolate(id(0), c.ids);
      case "partition":
        return c.network.partition(args.map((g) => g.split(",").map((n) => nodeId(Number(n)))));
      case "cut":
        return c.network.cut(id(0), id(1));
      case "heal":
        return c.network.heal();
      case "crash": {
        const point = { "before-persist": CrashPoint.BeforePersist, "after-persist": CrashPoint.AfterPersist };
        return c.crash(id(0), point[args[1] as keyof typeof point] ?? CrashPoint.BetweenTurns);
      }
      case "restart":
        return c.restart(id(0));
      case "expect":
        return this.expect(id(0), parseOptions(args.slice(1)));
      case "conf":
        return this.conf(id(0), args.slice(1));
      case "conf-refused": {
        const words = (args[1] ?? "").replace(/-/g, " ");
        try {
          this.conf(id(0), args.slice(2));
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          if (!message.includes(words)) throw new ScenarioError(`refused with "${message}", not "${words}"`);
          return;
        }
        throw new ScenarioError("the change was accepted");
      }
      case "expect-leader":
        return this.expectLeader(args[0] ?? "any");
      case "expect-rejections": {
        const max = Number((args[0] ?? "").replace("<=", ""));
        if (c.rejections > max) throw new ScenarioError(`${c.rejections} rejections > ${max}`);
        return;
      }
      default:
        throw new ScenarioError(`unknown command ${command}`);
    }
  }

  private conf(leader: NodeId, words: string[]): void {
    const raft = this.c.node(leader).raft;
    if (raft === null) throw new ScenarioError(`node ${leader} is down`);
    const transition = words[0] === "joint" || words[0] === "leave" ? words.shift() : undefined;
    const changes = words.map((w) => {
      const [type, n] = w.split(":");
      if (type !== "add-voter" && type !== "add-learner" && type !== "remove") {
        throw new ScenarioError(`bad change ${w}`);
      }
      return { type, id: nodeId(Number(n)) } as const;
    });
    raft.proposeConfChange(transition === undefined ? { changes } : { changes, transition: transition as "joint" | "leave" });
    this.c.process(this.c.node(leader));
  }

  private makeCluster(nodes: number, o: Options): Cluster {
    const bug = o["bug"];
    const plantedBugs: PlantedBugs | undefined = bug === undefined ? undefined : { [bug]: true };
    return new Cluster({
      nodes,
      spares: Number(o["spares"] ?? 0),
      seed: Number(o["seed"] ?? 1),
      fifo: true,
      trace: true,
      raft: {
        preVote: onOff(o["prevote"], true),
        checkQuorum: onOff(o["checkquorum"], true),
        electionTicks: Number(o["election"] ?? 10),
        heartbeatTicks: Number(o["heartbeat"] ?? 1),
        appendEntriesMax: Number(o["maxentries"] ?? 64),
        inflightMax: Number(o["inflight"] ?? 16),
        ...(plantedBugs === undefined ? {} : { plantedBugs }),
      },
    });
  }

  private elect(id: NodeId): void {
    const node = this.c.node(id);
    node.raft?.startElection();
    this.c.process(node);
    this.c.stabilize();
    if (node.raft?.role !== Role.Leader) throw new ScenarioError(`node ${id} did not become leader`);
  }

  private expectLeader(want: string): void {
    const up = this.c.ids.map((i) => this.c.node(i).raft).filter((r) => r !== null);
    const leaders = up.filter((r) => r.role === Role.Leader);
    const leader = leaders[0];
    if (leaders.length !== 1 || leader === undefined) {
      throw new ScenarioError(`expected one leader, found ${leaders.length}`);
    }
    if (want !== "any" && String(leader.id) !== want) {
      throw new ScenarioError(`leader is ${leader.id}, expected ${want}`);
    }
    const members = new Set(leader.tracker.members());
    for (const r of up.filter((x) => members.has(x.id))) {
      if (r.leaderId !== leader.id || r.term !== leader.term) {
        throw new ScenarioError(`node ${r.id} follows ${r.leaderId} in term ${r.term}, not ${leader.id}`);
      }
    }
  }

  private tick(target: string, times: number): void {
    for (let n = 0; n < times; n++) {
      if (target === "all") for (const i of this.c.ids) this.c.tickNode(i);
      else this.c.tickNode(nodeId(Number(target)));
    }
  }

  private propose(id: NodeId, words: string[]): void {
    const raft = this.c.node(id).raft;
    const n = words.length === 1 && /^x\d+$/.test(words[0] ?? "") ? repeat(words[0]) : 0;
    const commands = n > 0 ? Array.from({ length: n }, () => `cmd${++this.commandSeq}`) : words;
    if (raft === null) throw new ScenarioError(`node ${id} is down`);
    raft.propose(commands.map((cmd) => new TextEncoder().encode(cmd)));
    this.c.process(this.c.node(id));
  }

  private expect(id: NodeId, want: Options): void {
    const got = this.state(id);
    for (const [key, value] of Object.entries(want)) {
      if (!(key in got)) throw new ScenarioError(`unknown expect key ${key}`);
      if (got[key] !== value) throw new ScenarioError(`node ${id}: ${key} is ${got[key]}, expected ${value}`);
    }
  }

  state(id: NodeId): Record<string, string> {
    const node = this.c.node(id);
    const raft = node.raft;
    if (raft === null) return { role: "down" };
    const terms: number[] = [];
    for (let i = raft.log.firstIndex(); i <= raft.log.lastIndex(); i++) terms.push(raft.log.term(i) ?? -1);
    const conf = raft.confLog.current();
    const list = (ids: readonly number[]): string => (ids.length === 0 ? "none" : ids.join(","));
    return {
      voters: list(conf.voters),
      outgoing: list(conf.votersOutgoing),
      learners: list(conf.learners),
      role: roleName(raft.role),
      term: String(raft.term),
      leader: String(raft.leaderId ?? "none"),
      vote: String(raft.vote ?? "none"),
      commit: String(raft.log.commitIndex),
      applied: String(node.appliedIndex),
      last: String(raft.log.lastIndex()),
      log: terms.join(",") || "empty",
    };
  }

  dump(): string {
    if (this.cluster === null) return "";
    const rows = this.cluster.ids.map((id) => {
      const s = this.state(id);
      return `  node ${id}: ${Object.entries(s).map(([k, v]) => `${k}=${v}`).join(" ")}`;
    });
    return [...rows, "  last events:", ...this.cluster.traceTail(25).map((l) => `    ${l}`)].join("\n");
  }
}
