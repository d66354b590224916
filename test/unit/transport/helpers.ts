// Shared pieces of the transport tests: message arbitraries, a logger that records, a bounded
// wait, a raw socket that speaks (or abuses) the wire protocol, and the TLS fixtures.

import { readFileSync } from "node:fs";
import { type Socket, connect } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { type AppendRequest, type Message, MessageType } from "../../../src/core/messages.js";
import { type Entry, EntryType, type NodeId, nodeId } from "../../../src/core/types.js";
import type { LogFields, TransportLogger } from "../../../src/transport/logger.js";
import type { Frame } from "../../../src/transport/tcp/frame.js";
import { FrameDecoder } from "../../../src/transport/tcp/frame-decoder.js";
import type { TlsOptions } from "../../../src/transport/tcp/options.js";

export const seed = Number(process.env["SEED"] ?? 20261126);

const arbId = fc.oneof(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 2 ** 53 - 1 }));
const arbNodeId = arbId.map((n) => nodeId(n));
/** Small values most of the time, with the 64-bit edge cases mixed in. */
const arbU53 = fc.oneof(
  fc.nat({ max: 1000 }),
  fc.constantFrom(0, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1),
  fc.maxSafeNat(),
);
const envelope = { from: arbNodeId, to: arbNodeId, term: arbU53 };

const arbEntryFields = fc.record({
  term: arbU53,
  type: fc.constantFrom(EntryType.Normal, EntryType.ConfChange),
  data: fc.uint8Array({ maxLength: 48 }),
});

const arbAppend = fc
  .record({
    ...envelope,
    prevIndex: fc.oneof(fc.nat({ max: 1000 }), fc.constant(2 ** 53 - 1 - 16)),
    prevTerm: arbU53,
    commit: arbU53,
    fields: fc.array(arbEntryFields, { maxLength: 6 }),
  })
  .map(({ fields, ...rest }): Message => {
    const entries: Entry[] = fields.map((f, i) => ({ ...f, index: rest.prevIndex + 1 + i }));
    return { type: MessageType.Append, ...rest, entries };
  });

export const arbMessage: fc.Arbitrary<Message> = fc.oneof(
  fc.record({
    type: fc.constantFrom(MessageType.PreVote, MessageType.Vote),
    ...envelope,
    lastLogIndex: arbU53,
    lastLogTerm: arbU53,
    transfer: fc.boolean(),
  }),
  fc.record({
    type: fc.constantFrom(MessageType.PreVoteResponse, MessageType.VoteResponse),
    ...envelope,
    granted: fc.boolean(),
  }),
  arbAppend,
  fc.record({
    type: fc.constant(MessageType.AppendResponse),
    ...envelope,
    success: fc.boolean(),
    index: arbU53,
    hintIndex: arbU53,
    hintTerm: arbU53,
  }),
  fc.record({
    type: fc.constant(MessageType.Heartbeat),
    ...envelope,
    commit: arbU53,
    context: arbU53,
  }),
  fc.record({ type: fc.constant(MessageType.HeartbeatResponse), ...envelope, context: arbU53 }),
  fc.record({ type: fc.constant(MessageType.TimeoutNow), ...envelope }),
  fc.record({
    type: fc.constant(MessageType.InstallSnapshot),
    ...envelope,
    meta: fc.record({
      index: arbU53,
      term: arbU53,
      configuration: fc.record({
        voters: fc.array(arbNodeId, { maxLength: 7 }),
        votersOutgoing: fc.array(arbNodeId, { maxLength: 7 }),
        learners: fc.array(arbNodeId, { maxLength: 3 }),
      }).map((c) => ({ ...c })),
    }).map((meta) => ({ ...meta })),
  }),
).map((m) => ({ ...m })); // fc.record makes null-prototype objects; decode makes plain ones

/** An Append from `from` to `to` whose prevIndex numbers it within its link. */
export function append(from: number, to: number, sequence: number, entryCount = 2): AppendRequest {
  const entries: Entry[] = Array.from({ length: entryCount }, (_, i) => ({
    term: 3,
    index: sequence * 10 + 1 + i,
    type: EntryType.Normal,
    data: new TextEncoder().encode(`entry ${sequence}.${i} from ${from}`),
  }));
  return {
    type: MessageType.Append,
    from: nodeId(from),
    to: nodeId(to),
    term: 3,
    prevIndex: sequence * 10,
    prevTerm: 3,
    entries,
    commit: sequence,
  };
}

export function heartbeat(from: number, to: number, context: number): Message {
  const ids = { from: nodeId(from), to: nodeId(to) };
  return { type: MessageType.Heartbeat, ...ids, term: 3, commit: 0, context };
}

export interface LogRecord {
  readonly level: "warn" | "info" | "debug";
  readonly message: string;
  readonly fields: LogFields;
}

export class CaptureLogger implements TransportLogger {
  readonly records: LogRecord[] = [];

  warn(message: string, fields: LogFields = {}): void {
    this.records.push({ level: "warn", message, fields });
  }

  info(message: string, fields: LogFields = {}): void {
    this.records.push({ level: "info", message, fields });
  }

  debug(message: string, fields: LogFields = {}): void {
    this.records.push({ level: "debug", message, fields });
  }

  warnings(message: string): LogRecord[] {
    return this.records.filter((r) => r.level === "warn" && r.message === message);
  }
}

/** Polls `condition` every 5 ms; rejects naming `what` after `timeoutMs`. */
export async function waitFor(
  condition: () => boolean,
  what: string,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms in vain for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Resolves when `socket` closes; destroys it and rejects if it is still open after `timeoutMs`. */
export async function socketClosed(socket: Socket, timeoutMs = 3000): Promise<void> {
  if (socket.closed) return;
  let timer: NodeJS.Timeout | undefined;
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`socket open after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([closed, timeout]);
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
}

/** A raw client socket for hostile-peer tests: it records the frames it receives. */
export class RawPeer {
  readonly frames: Frame[] = [];
  private readonly decoder = new FrameDecoder(1024);

  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => this.frames.push(...this.decoder.push(chunk)));
    socket.on("error", () => {});
  }

  static async connect(address: string): Promise<RawPeer> {
    const [host, port] = address.split(":");
    const socket = connect({ host: host ?? "", port: Number(port) });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    return new RawPeer(socket);
  }

  /** Resolves when the socket closes; rejects if it is still open after `timeoutMs`. */
  waitClosed(timeoutMs = 3000): Promise<void> {
    return socketClosed(this.socket, timeoutMs);
  }

  async nextFrame(what: string): Promise<Frame> {
    await waitFor(() => this.frames.length > 0, what, 3000);
    return this.frames.shift() as Frame;
  }
}

const fixtures = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "..", "test",
  "fixtures", "tls");

export function fixture(name: string): string {
  return readFileSync(join(fixtures, name), "utf8");
}

export function tlsFor(node: string, caName = "ca"): TlsOptions {
  const ca = fixture(`${caName}.crt`);
  return { ca, cert: fixture(`${node}.crt`), key: fixture(`${node}.key`) };
}

export function ids(...values: number[]): NodeId[] {
  return values.map((v) => nodeId(v));
}
