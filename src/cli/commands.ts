// The client commands of `raft-store`: they talk to any member's HTTP API (--endpoint, or
// RAFT_STORE_ENDPOINT, default the first member of `raft-store dev`), and print results for
// people (tables) or, with --json, for scripts.

import { parseArgs } from "node:util";
import type { ClusterView } from "../server/api.js";
import { ApiError, HttpClient, apiError, keyPath } from "./http-client.js";
import { type LoadApi, type LoadOp, loadOps, runLoad } from "./load.js";

export const clientUsage = `raft-store <command> [--endpoint host:port] [--token T] [--json]
  put <key> <value> [--ttl-ms N]      write a key
  get <key> [--consistency linearizable|lease|stale]
  del <key>                           delete a key
  scan [--prefix P] [--limit N]       list keys and values in key order
  txn '<json>'                        {"compare":[...],"success":[...],"failure":[...]}
  members list | add <id> <peer host:port> [--learner] | remove <id> | promote <id>
  leader transfer [<id>]              hand leadership over (default: most up-to-date voter)
  snapshot                            take a snapshot on the member asked
  status                              a table of the cluster
  bench [--clients 16] [--seconds 10] [--op put|get|mixed] [--api http|resp]
        [--value-bytes 256] [--keys 10000] [--resp-endpoint host:port]`;

const options = {
  endpoint: { type: "string" },
  token: { type: "string" },
  json: { type: "boolean" },
  "ttl-ms": { type: "string" },
  consistency: { type: "string" },
  prefix: { type: "string" },
  limit: { type: "string" },
  learner: { type: "boolean" },
  clients: { type: "string" },
  seconds: { type: "string" },
  op: { type: "string" },
  api: { type: "string" },
  "value-bytes": { type: "string" },
  keys: { type: "string" },
  "resp-endpoint": { type: "string" },
} as const;

interface Context {
  readonly client: HttpClient;
  readonly args: readonly string[];
  readonly flags: Record<string, string | boolean | undefined>;
  readonly json: boolean;
  out(text: string): void;
}

export class UsageError extends Error {}

function arg(ctx: Context, index: number, name: string): string {
  const value = ctx.args[index];
  if (value === undefined) throw new UsageError(`missing <${name}>`);
  return value;
}

function print(ctx: Context, value: unknown, human?: () => string): void {
  ctx.out(
    ctx.json || human === undefined ? JSON.stringify(value, null, ctx.json ? 0 : 2) : human(),
  );
}

export async function runClientCommand(
  command: string,
  argv: readonly string[],
  out: (t: string) => void,
): Promise<void> {
  const parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  const flags = parsed.values as Context["flags"];
  const endpoint =
    (flags.endpoint as string | undefined) ?? process.env.RAFT_STORE_ENDPOINT ?? "127.0.0.1:8001";
  const token = (flags.token as string | undefined) ?? process.env.RAFT_STORE_TOKEN ?? null;
  const client = new HttpClient(endpoint, token);
  const ctx: Context = { client, args: parsed.positionals, flags, json: flags.json === true, out };
  try {
    await dispatch(command, ctx);
  } finally {
    client.close();
  }
}

async function dispatch(command: string, ctx: Context): Promise<void> {
  const { client } = ctx;
  switch (command) {
    case "put": {
      const ttl = ctx.flags["ttl-ms"];
      const query = typeof ttl === "string" ? `?ttlMs=${encodeURIComponent(ttl)}` : "";
      const res = await client.request(
        "PUT",
        keyPath(arg(ctx, 0, "key")) + query,
        arg(ctx, 1, "value"),
      );
      if (res.status !== 200) throw apiError(res);
      return print(ctx, JSON.parse(res.body.toString("utf8")), () => "OK");
    }
    case "get": {
      const level = ctx.flags.consistency;
      const query = typeof level === "string" ? `?consistency=${encodeURIComponent(level)}` : "";
      const res = await client.request("GET", keyPath(arg(ctx, 0, "key")) + query);
      if (res.status !== 200) throw apiError(res);
      const value = res.body.toString("utf8");
      return print(ctx, { value, modIndex: Number(res.headers["x-raft-mod-index"]) }, () => value);
    }
    case "del": {
      const body = await client.json<{ deleted: boolean }>("DELETE", keyPath(arg(ctx, 0, "key")));
      return print(ctx, body, () => (body.deleted ? "deleted" : "not found"));
    }
    case "scan":
      return scan(ctx);
    case "txn":
      return print(ctx, await client.json("POST", "/v1/txn", JSON.parse(arg(ctx, 0, "json"))));
    case "members":
      return members(ctx);
    case "leader": {
      if (ctx.args[0] !== "transfer") throw new UsageError("leader transfer [<id>]");
      const id = ctx.args[1];
      const body = await client.json<{ leader: string }>(
        "POST",
        "/v1/cluster/leader",
        id === undefined ? {} : { id },
      );
      return print(ctx, body, () => `leader is now ${body.leader}`);
    }
    case "snapshot": {
      const body = await client.json<{ index: number; term: number }>(
        "POST",
        "/v1/cluster/snapshot",
      );
      return print(ctx, body, () => `snapshot at index ${body.index} (term ${body.term})`);
    }
    case "status": {
      const view = await leaderView(ctx);
      return print(ctx, view, () => statusTable(view));
    }
    case "bench":
      return bench(ctx);
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

/** The cluster as the leader sees it (with each member's lag), else as the member asked does. */
async function leaderView(ctx: Context): Promise<ClusterView> {
  const view = await ctx.client.json<ClusterView>("GET", "/v1/cluster");
  const leader = view.members.find((m) => m.id === view.leader);
  if (view.leader === null || view.leader === view.self || leader?.http == null) return view;
  const token =
    typeof ctx.flags.token === "string" ? ctx.flags.token : (process.env.RAFT_STORE_TOKEN ?? null);
  const other = new HttpClient(leader.http, token);
  try {
    return await other.json<ClusterView>("GET", "/v1/cluster");
  } catch {
    return view; // the leader's endpoint is unreachable from here: show what we have
  } finally {
    other.close();
  }
}

async function scan(ctx: Context): Promise<void> {
  const prefix = typeof ctx.flags.prefix === "string" ? ctx.flags.prefix : "";
  const limit = typeof ctx.flags.limit === "string" ? ctx.flags.limit : "100";
  const body = await ctx.client.json<{ entries: { key: string; value: string }[]; more: boolean }>(
    "GET",
    `/v1/kv?prefix=${encodeURIComponent(prefix)}&limit=${encodeURIComponent(limit)}`,
  );
  print(ctx, body, () =>
    [
      ...body.entries.map((e) => `${e.key}\t${e.value}`),
      ...(body.more ? ["(more keys follow: raise --limit)"] : []),
    ].join("\n"),
  );
}

async function members(ctx: Context): Promise<void> {
  const { client } = ctx;
  const sub = ctx.args[0] ?? "list";
  let view: ClusterView;
  if (sub === "list") view = await client.json<ClusterView>("GET", "/v1/cluster");
  else if (sub === "add") {
    const role = ctx.flags.learner === true ? "learner" : "voter";
    view = await client.json<ClusterView>("POST", "/v1/cluster/members", {
      id: arg(ctx, 1, "id"),
      address: arg(ctx, 2, "peer address"),
      role,
    });
  } else if (sub === "remove") {
    view = await client.json<ClusterView>(
      "DELETE",
      `/v1/cluster/members/${encodeURIComponent(arg(ctx, 1, "id"))}`,
    );
  } else if (sub === "promote") {
    view = await client.json<ClusterView>(
      "POST",
      `/v1/cluster/members/${encodeURIComponent(arg(ctx, 1, "id"))}/promote`,
    );
  } else
    throw new UsageError(
      "members list | add <id> <address> [--learner] | remove <id> | promote <id>",
    );
  print(ctx, view.members, () => statusTable(view));
}

export function statusTable(view: ClusterView): string {
  const rows = [["ID", "ROLE", "LEADER", "PEER", "HTTP", "RESP", "MATCH", "LAG"]];
  for (const m of view.members) {
    rows.push([
      m.id,
      m.role,
      m.id === view.leader ? "*" : "",
      m.address,
      m.http ?? "-",
      m.resp ?? "-",
      m.matchIndex === null ? "-" : String(m.matchIndex),
      m.lag === null ? "-" : String(m.lag),
    ]);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  const table = rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
  const head =
    `leader ${view.leader ?? "none"}  term ${view.term}  commit ${view.commitIndex}  ` +
    `applied ${view.appliedIndex} (as seen by ${view.self}, a ${view.role})${view.joint ? "  JOINT" : ""}`;
  return `${head}\n${table}`;
}

function positiveFlag(ctx: Context, name: string, fallback: number): number {
  const text = ctx.flags[name];
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!(n > 0)) throw new UsageError(`--${name} must be a positive number`);
  return n;
}

async function bench(ctx: Context): Promise<void> {
  const api = (ctx.flags.api ?? "http") as LoadApi;
  const op = (ctx.flags.op ?? "put") as LoadOp;
  if (!["http", "resp"].includes(api)) throw new UsageError("--api http|resp");
  if (!loadOps.includes(op)) throw new UsageError(`--op ${loadOps.join("|")}`);
  let endpoint = ctx.client.endpoint;
  if (api === "resp") {
    const view = await ctx.client.json<ClusterView>("GET", "/v1/cluster");
    const given = ctx.flags["resp-endpoint"];
    const resp =
      typeof given === "string" ? given : view.members.find((m) => m.id === view.self)?.resp;
    if (resp === undefined || resp === null) throw new UsageError("give --resp-endpoint host:port");
    endpoint = resp;
  }
  const seconds = positiveFlag(ctx, "seconds", 10);
  const bar = (done: number, errors: number, elapsed: number): void => {
    if (!process.stderr.isTTY) return;
    const width = 30;
    const filled = Math.min(width, Math.round((elapsed / seconds) * width));
    const rate = elapsed > 0 ? Math.round(done / elapsed) : 0;
    process.stderr.write(
      `\r[${"#".repeat(filled)}${" ".repeat(width - filled)}] ${elapsed.toFixed(1)}s ` +
        `${done} ops ${rate}/s ${errors} errors `,
    );
  };
  const result = await runLoad({
    api,
    op,
    endpoints: [endpoint],
    seconds,
    clients: positiveFlag(ctx, "clients", 16),
    valueBytes: positiveFlag(ctx, "value-bytes", 256),
    keys: positiveFlag(ctx, "keys", 10_000),
    token: (ctx.flags.token as string | undefined) ?? null,
    onProgress: bar,
  });
  if (process.stderr.isTTY) process.stderr.write("\n");
  print(
    ctx,
    result,
    () =>
      `${result.ops} ${op} ops in ${result.seconds.toFixed(1)} s: ${Math.round(result.opsPerSec)} ops/s, ` +
      `p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms, max ${result.maxMs.toFixed(1)} ms, ` +
      `${result.errors} errors${result.firstError === null ? "" : ` (first: ${result.firstError})`}`,
  );
}

export function describeError(error: unknown): string {
  if (error instanceof ApiError) return `error ${error.status} ${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}
