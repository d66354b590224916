// Connection commands: PING, ECHO, SELECT, AUTH, HELLO, QUIT, CLIENT, READONLY/READWRITE and
// RAFT.CONSISTENCY (raft-store's own: how this connection's reads are served).

import { ReadConsistency } from "../../node/ports.js";
import { int64Arg, parseInt64, text, word } from "./args.js";
import { passwordMatches } from "./auth.js";
import type { CommandContext, CommandSpec, ConnectionState } from "./context.js";
import { CommandError, syntaxError, wrongArity, wrongPassError } from "./errors.js";
import { array, bulk, bulkOrNull, integer, ok, simple, textMap, type Reply } from "./reply.js";

/** The Redis version clients see: features are gated on it (HELLO, GETDEL, SET ... GET). */
export const redisCompatibleVersion = "7.2.0";

function ping(_context: CommandContext, args: readonly Buffer[]): Reply {
  if (args.length > 2) throw wrongArity("ping");
  const message = args[1];
  return message === undefined ? simple("PONG") : bulk(message);
}

function echo(_context: CommandContext, args: readonly Buffer[]): Reply {
  return bulk(args[1] ?? Buffer.alloc(0));
}

function select(_context: CommandContext, args: readonly Buffer[]): Reply {
  const index = int64Arg(args[1] ?? Buffer.alloc(0));
  if (index !== 0n) throw new CommandError("ERR DB index is out of range");
  return ok;
}

function auth(context: CommandContext, args: readonly Buffer[]): Reply {
  if (args.length > 3) throw new CommandError(syntaxError);
  if (context.token === null) {
    // As Redis without requirepass: a bare password is a mistake, a user + password is fine.
    if (args.length === 2) {
      throw new CommandError(
        "ERR AUTH <password> called without any password configured for the default user. " +
          "Are you sure your configuration is correct?",
      );
    }
    return ok;
  }
  const password = args.at(-1) ?? Buffer.alloc(0);
  if (!passwordMatches(context.token, password)) throw new CommandError(wrongPassError);
  context.connection.authenticated = true;
  return ok;
}

interface HelloOptions {
  readonly protocol: 2 | 3 | null;
  readonly password: Buffer | null;
  readonly name: Buffer | null;
}

function parseHello(args: readonly Buffer[]): HelloOptions {
  let protocol: 2 | 3 | null = null;
  let password: Buffer | null = null;
  let name: Buffer | null = null;
  if (args.length >= 2) {
    const version = parseInt64(args[1] ?? Buffer.alloc(0));
    if (version === null) {
      throw new CommandError("ERR Protocol version is not an integer or out of range");
    }
    if (version !== 2n && version !== 3n) {
      throw new CommandError("NOPROTO unsupported protocol version");
    }
    protocol = version === 2n ? 2 : 3;
  }
  for (let i = 2; i < args.length; i++) {
    const option = word(args[i] ?? Buffer.alloc(0));
    if (option === "auth" && i + 2 < args.length) {
      password = args[i + 2] ?? null;
      i += 2;
    } else if (option === "setname" && i + 1 < args.length) {
      name = args[++i] ?? null;
    } else {
      const raw = (args[i] ?? Buffer.alloc(0)).toString("latin1");
      throw new CommandError(`ERR Syntax error in HELLO option '${raw}'`);
    }
  }
  return { protocol, password, name };
}

function hello(context: CommandContext, args: readonly Buffer[]): Reply {
  const options = parseHello(args);
  const connection = context.connection;
  if (options.password !== null && context.token !== null) {
    if (!passwordMatches(context.token, options.password)) {
      throw new CommandError(wrongPassError);
    }
    connection.authenticated = true;
  }
  if (!connection.authenticated) {
    throw new CommandError(
      "NOAUTH HELLO must be called with the client already authenticated, otherwise the " +
        "HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and " +
        "select the RESP protocol version at the same time",
    );
  }
  if (options.name !== null) connection.name = clientName(options.name);
  // The reply already uses the new protocol, as in Redis.
  if (options.protocol !== null) connection.protocol = options.protocol;
  return textMap({
    server: bulk("redis"),
    version: bulk(redisCompatibleVersion),
    proto: integer(connection.protocol),
    id: integer(connection.id),
    mode: bulk("standalone"),
    role: bulk("master"),
    modules: array([]),
  });
}

function quit(context: CommandContext): Reply {
  context.connection.closeAfterReply = true;
  return ok;
}

/** A client name: printable ASCII without spaces; empty clears it. */
function clientName(arg: Buffer): string | null {
  for (const byte of arg) {
    if (byte < 0x21 || byte > 0x7e) {
      throw new CommandError(
        "ERR Client names cannot contain spaces, newlines or special characters.",
      );
    }
  }
  return arg.length === 0 ? null : arg.toString("latin1");
}

/** One line of CLIENT LIST / CLIENT INFO, as Redis formats it. */
export function clientLine(state: ConnectionState, now: number): string {
  const fields = [
    `id=${state.id}`,
    `addr=${state.remoteAddress}`,
    `laddr=${state.localAddress}`,
    `name=${state.name ?? ""}`,
    `age=${Math.floor((now - state.createdAtMs) / 1000)}`,
    `idle=${Math.floor((now - state.lastCommandAtMs) / 1000)}`,
    "db=0",
    `cmd=${state.lastCommand}`,
    `resp=${state.protocol}`,
    `lib-name=${state.libName ?? ""}`,
    `lib-ver=${state.libVersion ?? ""}`,
    `consistency=${state.consistency}`,
  ];
  return `${fields.join(" ")}\n`;
}

const clientArity: Readonly<Record<string, number>> = {
  setname: 3,
  getname: 2,
  id: 2,
  info: 2,
  list: -2,
  setinfo: 4,
  "no-evict": 3,
  "no-touch": 3,
};

function client(context: CommandContext, args: readonly Buffer[]): Reply {
  const sub = word(args[1] ?? Buffer.alloc(0));
  const arity = clientArity[sub];
  if (arity === undefined) {
    const raw = (args[1] ?? Buffer.alloc(0)).toString("latin1");
    throw new CommandError(`ERR unknown subcommand '${raw}'. Try CLIENT HELP.`);
  }
  if (arity >= 0 ? args.length !== arity : args.length < -arity) {
    throw wrongArity(`client|${sub}`);
  }
  return clientSubcommand(context, sub, args);
}

function clientSubcommand(context: CommandContext, sub: string, args: readonly Buffer[]): Reply {
  const connection = context.connection;
  const now = context.now();
  switch (sub) {
    case "setname":
      connection.name = clientName(args[2] ?? Buffer.alloc(0));
      return ok;
    case "getname":
      return bulkOrNull(connection.name);
    case "id":
      return integer(connection.id);
    case "info":
      return bulk(clientLine(connection, now));
    case "list":
      return bulk(context.connections().map((state) => clientLine(state, now)).join(""));
    case "setinfo":
      return setInfo(connection, args);
    default:
      return ok; // NO-EVICT, NO-TOUCH: nothing is evicted or tracked here
  }
}

function setInfo(connection: ConnectionState, args: readonly Buffer[]): Reply {
  const attribute = word(args[2] ?? Buffer.alloc(0));
  const value = text(args[3] ?? Buffer.alloc(0));
  if (/[\s]/.test(value)) {
    throw new CommandError("ERR lib-name and lib-ver cannot contain spaces or newlines");
  }
  if (attribute === "lib-name") connection.libName = value;
  else if (attribute === "lib-ver") connection.libVersion = value;
  else {
    const raw = (args[2] ?? Buffer.alloc(0)).toString("latin1");
    throw new CommandError(`ERR Unrecognized option '${raw}'`);
  }
  return ok;
}

const levels: ReadonlySet<string> = new Set(Object.values(ReadConsistency));

/**
 * RAFT.CONSISTENCY [linearizable|lease|stale]: sets how this connection's reads are served
 * (default linearizable); without an argument, answers the current level.
 */
function consistency(context: CommandContext, args: readonly Buffer[]): Reply {
  if (args.length > 2) throw wrongArity("raft.consistency");
  const arg = args[1];
  if (arg === undefined) return bulk(context.connection.consistency);
  const level = word(arg);
  if (!isConsistency(level)) {
    throw new CommandError("ERR consistency must be linearizable, lease or stale");
  }
  context.connection.consistency = level;
  return ok;
}

function isConsistency(level: string): level is ReadConsistency {
  return levels.has(level);
}

/** READONLY (Redis Cluster: "stale reads are fine here") = stale; READWRITE undoes it. */
function readonly(level: ReadConsistency) {
  return (context: CommandContext): Reply => {
    context.connection.consistency = level;
    return ok;
  };
}

const none: readonly [number, number, number] = [0, 0, 0];
const fast = ["fast"];

export const connectionCommands: readonly CommandSpec[] = [
  { name: "ping", arity: -1, flags: fast, keys: none, handler: ping },
  { name: "echo", arity: 2, flags: fast, keys: none, handler: echo },
  { name: "select", arity: 2, flags: fast, keys: none, handler: select },
  { name: "auth", arity: -2, flags: ["no-auth", "fast"], keys: none, handler: auth },
  { name: "hello", arity: -1, flags: ["no-auth", "fast"], keys: none, handler: hello },
  { name: "quit", arity: -1, flags: ["no-auth", "fast"], keys: none, handler: quit },
  { name: "client", arity: -2, flags: [], keys: none, handler: client },
  { name: "readonly", arity: 1, flags: fast, keys: none, handler: readonly("stale") },
  { name: "readwrite", arity: 1, flags: fast, keys: none, handler: readonly("linearizable") },
  { name: "raft.consistency", arity: -1, flags: fast, keys: none, handler: consistency },
];
