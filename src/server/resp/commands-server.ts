// INFO and the cluster commands: RAFT.INFO, RAFT.NODE ADD|REMOVE|PROMOTE, RAFT.LEADER,
// RAFT.SNAPSHOT. INFO's `raft` section prefixes its fields with raft_ so they never clash
// with Redis's own names (clients flatten INFO into one dictionary; `role` is Redis's).

import { arch, platform } from "node:os";
import { assertNever } from "../../assert.js";
import type { ClusterView, MemberRole, MemberView } from "../api.js";
import { text, word } from "./args.js";
import { countKeys } from "./commands-scan.js";
import { redisCompatibleVersion } from "./commands-connection.js";
import type { CommandContext, CommandSpec } from "./context.js";
import { CommandError, wrongArity } from "./errors.js";
import { array, bulk, bulkOrNull, integer, ok, textMap, type Reply } from "./reply.js";

type Section = "server" | "clients" | "persistence" | "replication" | "raft" | "keyspace";

/**
 * Sections of INFO without arguments. Keyspace counts every key (a full listing), so it is
 * only computed when asked for by name or with "all"/"everything": clients such as ioredis
 * send INFO on every connect.
 */
const defaultSections: readonly Section[] = [
  "server",
  "clients",
  "persistence",
  "replication",
  "raft",
];
const allSections: readonly Section[] = [...defaultSections, "keyspace"];

function requestedSections(args: readonly Buffer[]): Section[] {
  if (args.length <= 1) return [...defaultSections];
  const wanted = new Set(args.slice(1).map(word));
  if (wanted.has("all") || wanted.has("everything")) return [...allSections];
  if (wanted.has("default")) for (const section of defaultSections) wanted.add(section);
  return allSections.filter((section) => wanted.has(section));
}

async function info(context: CommandContext, args: readonly Buffer[]): Promise<Reply> {
  const lines: string[] = [];
  for (const section of requestedSections(args)) {
    if (lines.length > 0) lines.push("");
    lines.push(`# ${section[0]?.toUpperCase()}${section.slice(1)}`);
    lines.push(...(await sectionLines(context, section)));
  }
  return bulk(lines.map((line) => `${line}\r\n`).join(""));
}

async function sectionLines(context: CommandContext, section: Section): Promise<string[]> {
  const now = context.now();
  switch (section) {
    case "server": {
      const server = context.serverInfo();
      const uptime = Math.max(0, Math.floor((now - server.startedAtMs) / 1000));
      return [
        `redis_version:${redisCompatibleVersion}`,
        `raft_store_version:${server.version}`,
        "redis_mode:standalone",
        `os:${platform()} ${arch()}`,
        `process_id:${process.pid}`,
        `uptime_in_seconds:${uptime}`,
        `uptime_in_days:${Math.floor(uptime / 86400)}`,
      ];
    }
    case "clients":
      return [
        `connected_clients:${context.connections().length}`,
        `maxclients:${context.maxClients}`,
      ];
    case "persistence":
      return ["loading:0"];
    case "replication":
      return ["role:master", "connected_slaves:0"];
    case "raft":
      return raftLines(await context.admin.cluster());
    case "keyspace": {
      const counts = await countKeys(context);
      if (counts.keys === 0) return [];
      return [`db0:keys=${counts.keys},expires=${counts.expires},avg_ttl=0`];
    }
    default:
      return assertNever(section, "INFO section");
  }
}

function raftLines(view: ClusterView): string[] {
  const lines = [
    `raft_node_id:${view.self}`,
    `raft_role:${view.role}`,
    `raft_leader:${view.leader ?? ""}`,
    `raft_term:${view.term}`,
    `raft_commit_index:${view.commitIndex}`,
    `raft_applied_index:${view.appliedIndex}`,
    `raft_joint:${view.joint ? 1 : 0}`,
    `raft_members:${view.members.length}`,
  ];
  view.members.forEach((member, i) => {
    const fields = [
      `id=${member.id}`,
      `address=${member.address}`,
      `role=${member.role}`,
      `resp=${member.resp ?? ""}`,
      `http=${member.http ?? ""}`,
      `match_index=${member.matchIndex ?? ""}`,
      `lag=${member.lag ?? ""}`,
    ];
    lines.push(`raft_member${i}:${fields.join(",")}`);
  });
  return lines;
}

function nullableInteger(value: number | null): Reply {
  return value === null ? bulkOrNull(null) : integer(value);
}

function memberReply(member: MemberView): Reply {
  return textMap({
    id: bulk(member.id),
    address: bulk(member.address),
    role: bulk(member.role),
    http: bulkOrNull(member.http),
    resp: bulkOrNull(member.resp),
    match_index: nullableInteger(member.matchIndex),
    lag: nullableInteger(member.lag),
  });
}

/** RAFT.INFO: the cluster as this node sees it (a map; a flat array in RESP2). */
export function clusterReply(view: ClusterView): Reply {
  return textMap({
    self: bulk(view.self),
    leader: bulkOrNull(view.leader),
    term: integer(view.term),
    role: bulk(view.role),
    commit_index: integer(view.commitIndex),
    applied_index: integer(view.appliedIndex),
    joint: integer(view.joint ? 1 : 0),
    members: array(view.members.map(memberReply)),
  });
}

async function raftInfo(context: CommandContext): Promise<Reply> {
  return clusterReply(await context.admin.cluster());
}

/** RAFT.NODE ADD <id> <address> [voter|learner] | REMOVE <id> | PROMOTE <id>. */
async function raftNode(context: CommandContext, args: readonly Buffer[]): Promise<Reply> {
  const sub = word(args[1] ?? Buffer.alloc(0));
  const id = text(args[2] ?? Buffer.alloc(0), "node id");
  if (sub === "add") {
    if (args.length < 4 || args.length > 5) throw wrongArity("raft.node|add");
    const address = text(args[3] ?? Buffer.alloc(0), "address");
    const role = args[4] === undefined ? undefined : memberRole(word(args[4]));
    await context.admin.addMember({ id, address, ...(role === undefined ? {} : { role }) });
    return ok;
  }
  if (sub === "remove" || sub === "promote") {
    if (args.length !== 3) throw wrongArity(`raft.node|${sub}`);
    if (sub === "remove") await context.admin.removeMember(id);
    else await context.admin.promote(id);
    return ok;
  }
  const raw = (args[1] ?? Buffer.alloc(0)).toString("latin1");
  throw new CommandError(`ERR unknown subcommand '${raw}'. Try ADD, REMOVE or PROMOTE.`);
}

function memberRole(role: string): MemberRole {
  if (role === "voter" || role === "learner") return role;
  throw new CommandError("ERR role must be voter or learner");
}

/** RAFT.LEADER [id]: hands leadership over; answers the new leader's id. */
async function raftLeader(context: CommandContext, args: readonly Buffer[]): Promise<Reply> {
  if (args.length > 2) throw wrongArity("raft.leader");
  const target = args[1] === undefined ? undefined : text(args[1], "node id");
  const result = await context.admin.transferLeader(target);
  return bulk(result.leader);
}

async function raftSnapshot(context: CommandContext): Promise<Reply> {
  const result = await context.admin.snapshot();
  return textMap({ index: integer(result.index), term: integer(result.term) });
}

const none: readonly [number, number, number] = [0, 0, 0];
const admin = ["admin"];

export const serverCommands: readonly CommandSpec[] = [
  { name: "info", arity: -1, flags: ["loading"], keys: none, handler: info },
  { name: "raft.info", arity: 1, flags: ["readonly"], keys: none, handler: raftInfo },
  { name: "raft.node", arity: -3, flags: admin, keys: none, handler: raftNode },
  { name: "raft.leader", arity: -1, flags: admin, keys: none, handler: raftLeader },
  { name: "raft.snapshot", arity: 1, flags: admin, keys: none, handler: raftSnapshot },
];
