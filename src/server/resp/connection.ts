// One client connection: parse, run commands, write replies.
//
// Ordering: a pipelining client expects its writes applied in the order sent, and a read to
// see the writes before it; the KvApi promises no order between concurrent calls (a
// follower forwards each request to the leader on its own), so overlapping a write with
// anything could reorder them. So every command that is not a pure read (a write, a
// connection command such as HELLO or AUTH, an unknown command) runs alone: after every
// command before it has finished and before any after it starts. Consecutive pure reads
// (isReadOnlyCommand: GET, MGET, EXISTS, TTL, ...) may run concurrently, at most
// `concurrentReadsMax` at once, since no order among them is observable; their replies are
// still written in request order. Throughput also comes from batching: replies are collected
// while more commands of the pipeline are parsed and written to the socket in one write when
// nothing more is queued (or the batch is large).
//
// Backpressure: at most `pendingCommandsMax` parsed commands wait; beyond that the socket is
// paused until half have started. When the client does not read its replies (the socket's
// write buffer is over `writeBufferBytesMax`), no command starts until it drains.

import type { Socket } from "node:net";
import { AssertionError, assert } from "../../assert.js";
import { executeCommand, isReadOnlyCommand } from "./commands.js";
import type { CommandContext, ConnectionState, ServerContext } from "./context.js";
import { ReplyWriter } from "./encoder.js";
import type { ProtocolError } from "./errors.js";
import { type RespParserLimits, RespParser } from "./parser.js";
import { errorReply, type Reply } from "./reply.js";

export interface ConnectionLimits extends RespParserLimits {
  /** Parsed commands waiting to run before the socket is paused. */
  readonly pendingCommandsMax: number;
  /** Consecutive pure reads of a pipeline running at once. */
  readonly concurrentReadsMax: number;
  /** Unsent reply bytes before commands stop running until the socket drains. */
  readonly writeBufferBytesMax: number;
  /** Replies are flushed once a batch reaches this size even while commands are queued. */
  readonly flushBytes: number;
  /** After a protocol error or QUIT: how long to wait for the client to close. */
  readonly lingerMs: number;
}

type Item =
  | { readonly kind: "command"; readonly args: Buffer[]; readonly readOnly: boolean }
  | { readonly kind: "protocolError"; readonly error: ProtocolError };

/** A FIFO with O(1) shift (Array#shift is O(n) on large arrays). */
class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

/** A read started ahead of its turn to reply: its reply is written once those before it are. */
class PendingReply {
  reply: Reply | null = null;
  readonly settled: Promise<void>;

  constructor(running: Promise<Reply>) {
    this.settled = running.then((reply) => {
      this.reply = reply;
    });
    // run() awaits the pending replies in order (when closing too): a rejection, which only a
    // broken invariant causes, surfaces there and ends the process. This handler only keeps
    // a later one from being reported as unhandled before run() reaches it.
    this.settled.catch(() => {});
  }
}

export class RespConnection {
  readonly state: ConnectionState;
  private readonly parser: RespParser;
  private readonly queue = new Fifo<Item>();
  /** Reads started and not yet answered, in request order. */
  private readonly reads = new Fifo<PendingReply>();
  private readonly writer = new ReplyWriter();
  private readonly context: CommandContext;
  private running = false;
  private pausedForQueue = false;
  /** No more commands run: a protocol error or QUIT is being answered, or the socket closed. */
  private finished = false;
  /** The client sent its end (FIN): close once the queued commands are answered. */
  private inputEnded = false;

  constructor(
    private readonly socket: Socket,
    server: ServerContext,
    id: number,
    private readonly limits: ConnectionLimits,
  ) {
    const now = server.now();
    this.state = {
      id,
      remoteAddress: `${socket.remoteAddress ?? "?"}:${socket.remotePort ?? 0}`,
      localAddress: `${socket.localAddress ?? "?"}:${socket.localPort ?? 0}`,
      createdAtMs: now,
      lastCommandAtMs: now,
      name: null,
      libName: null,
      libVersion: null,
      protocol: 2,
      authenticated: server.token === null,
      consistency: "linearizable",
      closeAfterReply: false,
      lastCommand: "NULL",
    };
    this.context = { ...server, connection: this.state };
    this.parser = new RespParser(limits);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    // The server allows half-open sockets: a client that sends commands and then its end
    // (`printf 'PING\r\n' | nc`) still gets every reply before the connection closes.
    socket.on("end", () => {
      this.inputEnded = true;
      if (!this.running) this.idle();
    });
    socket.on("close", () => {
      this.finished = true;
    });
  }

  private onData(chunk: Buffer): void {
    if (this.finished) return; // draining what a closing client still sends
    const { commands, error } = this.parser.push(chunk);
    for (const args of commands) {
      this.queue.push({ kind: "command", args, readOnly: isReadOnlyCommand(args) });
    }
    if (error !== null) this.queue.push({ kind: "protocolError", error });
    if (this.queue.length >= this.limits.pendingCommandsMax && !this.pausedForQueue) {
      this.pausedForQueue = true;
      this.socket.pause();
    }
    if (!this.running) this.start();
  }

  private start(): void {
    this.running = true;
    this.run().catch((error: unknown) => {
      // A broken invariant must end the process (STYLE.md): rethrow outside the promise.
      if (error instanceof AssertionError) {
        process.nextTick(() => {
          throw error;
        });
        return;
      }
      this.context.logger.error("resp connection failed", { error: String(error) });
      this.socket.destroy();
    });
  }

  private async run(): Promise<void> {
    try {
      while (!this.finished) {
        this.writeReadReplies();
        const next = this.queue.peek();
        if (next === undefined && this.reads.length === 0) return this.idle();
        if (this.socket.writableLength > this.limits.writeBufferBytesMax) {
          await this.drained();
        } else if (next !== undefined && this.mayStart(next)) {
          this.queue.shift();
          this.maybeResume();
          await this.startItem(next);
        } else {
          await this.awaitFirstRead();
        }
      }
      // Closing: the replies are dropped, but a read still running may yet throw a bug.
      for (let read = this.reads.shift(); read !== undefined; read = this.reads.shift()) {
        await read.settled;
      }
    } finally {
      this.running = false;
    }
  }

  /** A read may start next to other reads (up to the limit); anything else only alone. */
  private mayStart(item: Item): boolean {
    if (item.kind === "command" && item.readOnly) {
      return this.reads.length < this.limits.concurrentReadsMax;
    }
    return this.reads.length === 0;
  }

  /** Starts a read (not awaited), or runs anything else to the end. */
  private async startItem(item: Item): Promise<void> {
    if (item.kind === "protocolError") {
      this.writer.write(errorReply(`ERR ${item.error.message}`), this.state.protocol);
      return this.finish();
    }
    if (item.readOnly) {
      this.reads.push(new PendingReply(this.execute(item.args)));
      return;
    }
    assert(this.reads.length === 0, `a non-read started with ${this.reads.length} reads running`);
    const reply = await this.execute(item.args);
    if (this.finished) return;
    this.writeReply(reply);
    if (this.state.closeAfterReply) this.finish();
  }

  private async execute(args: Buffer[]): Promise<Reply> {
    const reply = await executeCommand(this.context, args);
    this.context.metrics?.request("resp", reply.kind === "error" ? "error" : "ok");
    return reply;
  }

  /** Writes the replies of the first reads that have finished, in request order. */
  private writeReadReplies(): void {
    for (;;) {
      const reply = this.reads.peek()?.reply ?? null;
      if (reply === null || this.finished) return;
      this.reads.shift();
      this.writeReply(reply);
    }
  }

  private async awaitFirstRead(): Promise<void> {
    const first = this.reads.peek();
    assert(first !== undefined, "awaiting a read with none running");
    // Nothing else can be started: the client waits for these replies, send what is ready.
    if (this.queue.length === 0) this.flush();
    await first.settled;
  }

  private writeReply(reply: Reply): void {
    this.writer.write(reply, this.state.protocol);
    if (this.writer.byteLength >= this.limits.flushBytes) this.flush();
  }

  /** Every parsed command has run: send the replies; close if the client sent its end. */
  private idle(): void {
    this.flush();
    if (this.inputEnded) {
      this.finished = true;
      this.socket.end();
    }
  }

  private maybeResume(): void {
    if (this.pausedForQueue && this.queue.length <= this.limits.pendingCommandsMax / 2) {
      this.pausedForQueue = false;
      this.socket.resume();
    }
  }

  private flush(): void {
    if (this.writer.byteLength === 0 || this.socket.destroyed) return;
    this.socket.write(this.writer.take());
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.socket.off("drain", done);
        this.socket.off("close", done);
        resolve();
      };
      this.socket.on("drain", done);
      this.socket.on("close", done);
    });
  }

  /**
   * Writes the last reply and closes. Incoming bytes are still read (and dropped) until the
   * client closes or `lingerMs` passes: closing with unread input makes the kernel send a
   * reset, which can destroy the reply before the client reads it.
   */
  private finish(): void {
    this.flush();
    this.finished = true;
    this.socket.end();
    this.socket.resume();
    const timer = setTimeout(() => this.socket.destroy(), this.limits.lingerMs);
    timer.unref();
    this.socket.once("close", () => clearTimeout(timer));
  }

  /** Closes at once (server shutdown). */
  destroy(): void {
    this.finished = true;
    this.socket.destroy();
  }
}
