// The command table and the dispatcher: lookup (case-insensitive), authentication, Redis's
// arity check, the handler, and the mapping of every error to one reply. Handlers live in
// commands-*.ts by kind; COMMAND is here because it describes the table.

import { AssertionError } from "../../assert.js";
import { RaftStoreError } from "../../errors.js";
import { word } from "./args.js";
import { connectionCommands } from "./commands-connection.js";
import { keyCommands } from "./commands-keys.js";
import { scanCommands } from "./commands-scan.js";
import { serverCommands } from "./commands-server.js";
import { stringCommands } from "./commands-strings.js";
import type { CommandContext, CommandSpec } from "./context.js";
import { CommandError, noAuthError, wrongArity } from "./errors.js";
import {
  array,
  bulk,
  errorReply,
  integer,
  nullReply,
  simple,
  type Reply,
} from "./reply.js";

function commandInfo(spec: CommandSpec): Reply {
  return array([
    bulk(spec.name),
    integer(spec.arity),
    array(spec.flags.map(simple)),
    integer(spec.keys[0]),
    integer(spec.keys[1]),
    integer(spec.keys[2]),
    array([]), // ACL categories
    array([]), // tips
    array([]), // key specs
    array([]), // subcommands
  ]);
}

/**
 * COMMAND [COUNT | LIST | INFO name... | DOCS name...]. DOCS answers an empty map:
 * redis-cli asks for it on start and then does without hints.
 */
function command(_context: CommandContext, args: readonly Buffer[]): Reply {
  const all = [...commandTable.values()];
  if (args.length === 1) return array(all.map(commandInfo));
  const sub = word(args[1] ?? Buffer.alloc(0));
  switch (sub) {
    case "count":
      return integer(all.length);
    case "list":
      return array(all.map((spec) => bulk(spec.name)));
    case "info": {
      const names = args.length === 2 ? all.map((spec) => spec.name) : args.slice(2).map(word);
      return array(names.map((name) => lookupInfo(name)));
    }
    case "docs":
      return { kind: "map", entries: [] };
    default: {
      const raw = (args[1] ?? Buffer.alloc(0)).toString("latin1");
      throw new CommandError(`ERR unknown subcommand '${raw}'. Try COMMAND HELP.`);
    }
  }
}

function lookupInfo(name: string): Reply {
  const spec = commandTable.get(name);
  return spec === undefined ? nullReply : commandInfo(spec);
}

const commandCommand: CommandSpec = {
  name: "command",
  arity: -1,
  flags: ["loading"],
  keys: [0, 0, 0],
  handler: command,
};

export const commandTable: ReadonlyMap<string, CommandSpec> = new Map(
  [
    ...stringCommands,
    ...keyCommands,
    ...scanCommands,
    ...connectionCommands,
    ...serverCommands,
    commandCommand,
  ].map((spec) => [spec.name, spec]),
);

/**
 * Whether the command only reads (Redis's "readonly" flag: GET, MGET, EXISTS, TYPE, TTL,
 * PTTL, STRLEN, SCAN, KEYS, DBSIZE, RAFT.INFO). Such commands change neither the keyspace nor
 * the connection's state, so consecutive ones of a pipeline may run concurrently.
 */
export function isReadOnlyCommand(args: readonly Buffer[]): boolean {
  const spec = commandTable.get(word(args[0] ?? Buffer.alloc(0)));
  return spec !== undefined && spec.flags.includes("readonly");
}

/** Runs one command; never rejects except on a broken invariant (AssertionError). */
export async function executeCommand(
  context: CommandContext,
  args: readonly Buffer[],
): Promise<Reply> {
  const nameArg = args[0] ?? Buffer.alloc(0);
  const name = word(nameArg);
  context.connection.lastCommand = name;
  context.connection.lastCommandAtMs = context.now();
  try {
    const spec = commandTable.get(name);
    const authRequired = context.token !== null && !context.connection.authenticated;
    if (authRequired && !spec?.flags.includes("no-auth")) return errorReply(noAuthError);
    if (spec === undefined) return errorReply(unknownCommand(nameArg, args.slice(1)));
    const arity = spec.arity;
    if (arity >= 0 ? args.length !== arity : args.length < -arity) throw wrongArity(spec.name);
    return await spec.handler(context, args);
  } catch (error) {
    return replyForError(context, name, error);
  }
}

/** Redis's message: the name and the first arguments, each quoted, at most ~128 bytes. */
function unknownCommand(name: Buffer, args: readonly Buffer[]): string {
  let listed = "";
  for (const arg of args) {
    if (listed.length >= 128) break;
    listed += `'${printable(arg).slice(0, 128 - listed.length)}' `;
  }
  const shown = printable(name).slice(0, 128);
  return `ERR unknown command '${shown}', with args beginning with: ${listed}`;
}

function printable(arg: Buffer): string {
  return arg.toString("latin1").replace(/[\r\n]/g, " ");
}

/**
 * Whether a failed request may have taken effect decides the prefix (CONTRACTS.md):
 * TRYAGAIN only when nothing was applied and a retry can succeed; a timeout or a stop is
 * an unknown outcome, so a plain ERR. Unexpected errors are logged and answered vaguely.
 */
export function replyForError(context: CommandContext, command: string, error: unknown): Reply {
  if (error instanceof CommandError) return errorReply(error.reply);
  // A broken invariant is a bug: nothing catches it (STYLE.md).
  if (error instanceof AssertionError) throw error;
  if (error instanceof RaftStoreError) {
    switch (error.code) {
      case "NOT_LEADER":
      case "UNAVAILABLE":
      case "PROPOSAL_DROPPED":
        return errorReply(`TRYAGAIN ${error.message}`);
      case "NOT_INTEGER":
        return errorReply("ERR value is not an integer or out of range");
      case "OVERFLOW":
        return errorReply("ERR increment or decrement would overflow");
      case "UNAUTHORIZED":
        return errorReply(noAuthError);
      default:
        return errorReply(`ERR ${error.message}`);
    }
  }
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  context.logger.error("resp command failed unexpectedly", { command, error: message });
  return errorReply("ERR internal error");
}
