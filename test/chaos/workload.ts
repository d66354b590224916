// The chaos clients: N single-threaded processes sending operations to random members' HTTP
// APIs and recording the history of CONTRACTS.md ("Chaos"): an invoke before each request, then
// ok / fail / info. After an info a process may still have an operation in flight, so the
// client carries on under a new process number (old + N).
//
// register: reads, writes of unique values ("p<process>-<n>") and compare-and-sets on a few
//   keys at a time, so operations contend. Keys rotate every keyPeriodMs ("r<period>-<slot>"):
//   each key's history stays short enough for the linearizability search.
// set: unique adds (PUT set/<element>), recorded as f "add" on key "set"; at the end, reads of
//   the whole set (GET /v1/kv?prefix=set/), recorded as f "read" with the array of elements
//   (the format set-check.ts reads).
// Reads are linearizable (ReadIndex, the server's default), lease reads (`?consistency=lease`:
// the leader answers under its lease, without a quorum round trip), or a seeded mix of both.

import { Sfc32 } from "../../src/core/prng.js";
import type { CompletionType, HistoryEvent, HistoryValue, OpFunction } from "./history.js";
import { type CallResult, HttpPool, type Outcome, classify } from "./http-call.js";

export type WorkloadKind = "register" | "set";

export const readModes = ["linearizable", "lease", "mixed"] as const;
export type ReadMode = (typeof readModes)[number];

export const setKey = "set";
const setPrefix = "set/";

/** Appends events with the run's clock. */
export class HistoryRecorder {
  readonly events: HistoryEvent[] = [];
  readonly counts = { invoke: 0, ok: 0, fail: 0, info: 0 };

  constructor(private readonly now: () => number) {}

  invoke(process: number, f: OpFunction, key: string, value: HistoryValue): void {
    this.push({ process, type: "invoke", f, key, value, time: this.now() });
  }

  complete(process: number, type: CompletionType, f: OpFunction, key: string, value: HistoryValue) {
    this.push({ process, type, f, key, value, time: this.now() });
  }

  private push(event: HistoryEvent): void {
    this.events.push(event);
    this.counts[event.type] += 1;
  }
}

export interface WorkloadOptions {
  readonly kind: WorkloadKind;
  readonly clients: number;
  readonly seed: number;
  /** HTTP addresses (host:port) of the members clients may talk to. */
  readonly endpoints: () => readonly string[];
  /** ns since the start of the run. */
  readonly now: () => number;
  /** Per-request deadline (default 1500 ms). */
  readonly timeoutMs?: number;
  /** Pause between a client's operations, [min, max] ms (default [10, 30]). */
  readonly thinkMs?: readonly [number, number];
  /** Keys in use at a time in the register workload (default 4). */
  readonly keys?: number;
  /** How long a register key set stays in use (default 5000 ms). */
  readonly keyPeriodMs?: number;
  /** The consistency register reads ask for (default linearizable). */
  readonly reads?: ReadMode;
}

interface Client {
  readonly index: number;
  process: number;
  counter: number;
  readonly random: Sfc32;
  /** The value this client last saw for each key (null: absent). */
  readonly seen: Map<string, string | null>;
}

export class Workload {
  readonly history: HistoryRecorder;
  private readonly pool = new HttpPool();
  private readonly clients: Client[];
  /** Register keys used so far, for the final reads. */
  private readonly keysUsed = new Set<string>();

  constructor(private readonly o: WorkloadOptions) {
    this.history = new HistoryRecorder(o.now);
    const seeds = new Sfc32(o.seed);
    this.clients = Array.from({ length: o.clients }, (_, index) => ({
      index, process: index, counter: 0, random: seeds.fork(), seen: new Map(),
    }));
  }

  /** Runs every client until `done()` says stop. */
  async run(done: () => boolean): Promise<void> {
    await Promise.all(this.clients.map(async (client) => {
      while (!done()) {
        await this.step(client);
        const [low, high] = this.o.thinkMs ?? [10, 30];
        await sleep(low + client.random.nextInt(high - low + 1));
      }
    }));
  }

  /** Every client reads what the checkers need at the end (register: every key; set: the set). */
  async finalReads(): Promise<void> {
    await Promise.all(this.clients.map(async (client) => {
      if (this.o.kind === "set") {
        for (let attempt = 0; attempt < 10; attempt += 1) {
          if ((await this.readSet(client)) === "ok") return;
          await sleep(500);
        }
        return;
      }
      for (const key of [...this.keysUsed].sort()) {
        for (let attempt = 0; attempt < 3; attempt += 1) {
          if ((await this.read(client, key)) === "ok") break;
          await sleep(200);
        }
      }
    }));
  }

  close(): void {
    this.pool.close();
  }

  private step(client: Client): Promise<unknown> {
    if (this.o.kind === "set") return this.add(client);
    const slot = client.random.nextInt(this.o.keys ?? 4);
    const period = Math.floor(this.o.now() / 1e6 / (this.o.keyPeriodMs ?? 5000));
    const key = `r${period}-${slot}`;
    this.keysUsed.add(key);
    const dice = client.random.nextFloat();
    if (dice < 0.5) return this.read(client, key);
    if (dice < 0.8) return this.write(client, key);
    return this.cas(client, key);
  }

  private endpoint(client: Client): string {
    const all = this.o.endpoints();
    const chosen = all[client.random.nextInt(all.length)];
    if (chosen === undefined) throw new Error("the workload has no endpoint to talk to");
    return chosen;
  }

  private call(client: Client, method: string, path: string, body: string | null) {
    return this.pool.call(this.endpoint(client), method, path, body, this.o.timeoutMs ?? 1500);
  }

  private uniqueValue(client: Client): string {
    client.counter += 1;
    return `p${client.process}-${client.counter}`;
  }

  /** Records a completion; an info moves the client to a new process number. */
  private finish(
    client: Client, outcome: Outcome, f: OpFunction, key: string, value: HistoryValue,
  ): CompletionType {
    const type = outcome.kind;
    this.history.complete(client.process, type, f, key, value);
    if (type === "info") client.process += this.o.clients;
    return type;
  }

  private async read(client: Client, key: string): Promise<CompletionType> {
    this.history.invoke(client.process, "read", key, null);
    const mode = this.o.reads ?? "linearizable";
    const lease = mode === "lease" || (mode === "mixed" && client.random.chance(0.5));
    const path = lease ? `${keyPath(key)}?consistency=lease` : keyPath(key);
    const outcome = classify(await this.call(client, "GET", path, null));
    // A read changes nothing, so a read that did not answer is a failed read.
    if (outcome.kind !== "ok") return this.finish(client, failed(outcome), "read", key, null);
    const value = outcome.status === 404 ? null : outcome.body;
    client.seen.set(key, value);
    return this.finish(client, outcome, "read", key, value);
  }

  private async write(client: Client, key: string): Promise<CompletionType> {
    const value = this.uniqueValue(client);
    this.history.invoke(client.process, "write", key, value);
    const outcome = okOnly(classify(await this.call(client, "PUT", keyPath(key), value)));
    if (outcome.kind === "ok") client.seen.set(key, value);
    return this.finish(client, outcome, "write", key, value);
  }

  private async cas(client: Client, key: string): Promise<CompletionType> {
    const expected = client.seen.get(key) ?? null;
    const next = this.uniqueValue(client);
    const pair = [expected, next] as const;
    this.history.invoke(client.process, "cas", key, pair);
    const compare = expected === null ? { key, absent: true } : { key, value: expected };
    const txn = { compare: [compare], success: [{ op: "put", key, value: next }], failure: [] };
    const result = await this.call(client, "POST", "/v1/txn", JSON.stringify(txn));
    const outcome = casOutcome(result);
    if (outcome.kind === "ok") client.seen.set(key, next);
    return this.finish(client, outcome, "cas", key, pair);
  }

  private async add(client: Client): Promise<CompletionType> {
    client.counter += 1;
    const element = `${client.index}-${client.counter}`;
    this.history.invoke(client.process, "add", setKey, element);
    const path = keyPath(`${setPrefix}${element}`);
    const outcome = okOnly(classify(await this.call(client, "PUT", path, "1")));
    return this.finish(client, outcome, "add", setKey, element);
  }

  private async readSet(client: Client): Promise<CompletionType> {
    this.history.invoke(client.process, "read", setKey, null);
    const path = `/v1/kv?prefix=${encodeURIComponent(setPrefix)}&limit=100000`;
    const outcome = classify(await this.call(client, "GET", path, null));
    const elements = outcome.kind === "ok" && outcome.status === 200
      ? setElements(outcome.body)
      : null;
    if (elements === null) return this.finish(client, failed(outcome), "read", setKey, null);
    return this.finish(client, outcome, "read", setKey, elements);
  }
}

export function keyPath(key: string): string {
  return `/v1/kv/${encodeURIComponent(key)}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function failed(outcome: Outcome): Outcome {
  return outcome.kind === "fail" ? outcome : { kind: "fail", why: "read without an answer" };
}

/** For writes, only 2xx is ok: a 404 is a client error, so not applied. */
function okOnly(outcome: Outcome): Outcome {
  if (outcome.kind === "ok" && outcome.status === 404) return { kind: "fail", why: "404" };
  return outcome;
}

/** A txn answered 200 is ok when its comparison held, and a fail (nothing written) when not. */
export function casOutcome(result: CallResult): Outcome {
  const outcome = okOnly(classify(result));
  if (outcome.kind !== "ok") return outcome;
  try {
    const body = JSON.parse(outcome.body) as { succeeded?: unknown };
    if (body.succeeded === true) return outcome;
    if (body.succeeded === false) return { kind: "fail", why: "comparison failed" };
  } catch {
    // fall through: a 200 whose body we cannot read took effect or not, we cannot tell
  }
  return { kind: "info", why: `unreadable txn answer ${outcome.body.slice(0, 100)}` };
}

/** The elements of a prefix listing {entries: [{key}], more}, or null if it is not one. */
export function setElements(body: string): string[] | null {
  try {
    const parsed = JSON.parse(body) as { entries?: unknown; more?: unknown };
    if (!Array.isArray(parsed.entries) || parsed.more === true) return null;
    const keys = parsed.entries.map((e: unknown) =>
      typeof e === "object" && e !== null ? (e as { key?: unknown }).key : undefined);
    if (!keys.every((k): k is string => typeof k === "string" && k.startsWith(setPrefix))) {
      return null;
    }
    return keys.map((k) => k.slice(setPrefix.length));
  } catch {
    return null;
  }
}
