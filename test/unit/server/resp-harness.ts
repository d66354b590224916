// Runs RESP commands against the fake APIs without a socket: each call goes through the
// dispatcher and is encoded for the connection's protocol, so tests compare exact bytes.

import type { Logger } from "../../../src/logger.js";
import { executeCommand } from "../../../src/server/resp/commands.js";
import {
  type CommandContext,
  type ConnectionState,
  defaultRespLimits,
  type RespLimits,
} from "../../../src/server/resp/context.js";
import { encodeReply } from "../../../src/server/resp/encoder.js";
import { ScanCursorTable } from "../../../src/server/resp/scan-cursor.js";
import { FakeAdmin, FakeClock, FakeKv } from "./resp-fake-api.js";

export interface Harness {
  readonly clock: FakeClock;
  readonly kv: FakeKv;
  readonly admin: FakeAdmin;
  readonly connection: ConnectionState;
  /** The server's SCAN cursors; the first id issued is 1000. */
  readonly scanCursors: ScanCursorTable;
  /** Messages logged at error level. */
  readonly errors: string[];
  /** Runs one command (arguments as text, or bytes) and answers the encoded reply. */
  call(...args: (string | Buffer)[]): Promise<string>;
  /** As call, answering the reply's bytes. */
  callBytes(...args: (string | Buffer)[]): Promise<Buffer>;
}

export function harness(options: { token?: string; limits?: Partial<RespLimits> } = {}): Harness {
  const clock = new FakeClock();
  const kv = new FakeKv(clock);
  const admin = new FakeAdmin();
  const errors: string[] = [];
  const logger: Logger = {
    error: (message, fields) => errors.push(`${message} ${JSON.stringify(fields ?? {})}`),
    warn: () => {},
    info: () => {},
    debug: () => {},
  };
  const connection: ConnectionState = {
    id: 7,
    remoteAddress: "127.0.0.1:5000",
    localAddress: "127.0.0.1:6379",
    createdAtMs: clock.now(),
    lastCommandAtMs: clock.now(),
    name: null,
    libName: null,
    libVersion: null,
    protocol: 2,
    authenticated: options.token === undefined,
    consistency: "linearizable",
    closeAfterReply: false,
    lastCommand: "NULL",
  };
  const limits = { ...defaultRespLimits, ...options.limits };
  const scanCursors = new ScanCursorTable(
    { cursorsMax: limits.scanCursorsMax, keyBytesMax: limits.scanCursorKeyBytesMax },
    1000,
  );
  const context: CommandContext = {
    kv,
    admin,
    logger,
    token: options.token ?? null,
    now: clock.now,
    serverInfo: () => ({ version: "9.9.9", startedAtMs: clock.now() - 90_000 }),
    connections: () => [connection],
    maxClients: 100,
    limits,
    metrics: null,
    scanCursors,
    connection,
  };
  const callBytes = async (...args: (string | Buffer)[]): Promise<Buffer> => {
    const bytes = args.map((arg) => (typeof arg === "string" ? Buffer.from(arg) : arg));
    const reply = await executeCommand(context, bytes);
    return encodeReply(reply, connection.protocol);
  };
  const call = async (...args: (string | Buffer)[]): Promise<string> =>
    (await callBytes(...args)).toString("utf8");
  return { clock, kv, admin, connection, scanCursors, errors, call, callBytes };
}
