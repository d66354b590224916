// A minimal RESP2 client for the load generator and the CLI: one connection, commands answered
// in order (several may be in flight: a pipeline), replies parsed incrementally.

import net from "node:net";

export type RespReply = string | number | null | Buffer | RespReply[] | RespError;

export class RespError extends Error {
  override readonly name = "RespError";
}

const readBufferBytes = 64 * 1024;

interface Pending {
  resolve(reply: RespReply): void;
  reject(error: Error): void;
}

export class RespClient {
  private readonly socket: net.Socket;
  private buffer: Buffer = Buffer.alloc(0);
  private readonly pending: Pending[] = [];
  private closed: Error | null = null;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on("error", (error) => this.fail(error));
    socket.on("close", () => this.fail(new Error("connection closed")));
  }

  static connect(host: string, port: number): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      let client: RespClient | null = null;
      // Reads land in one buffer of this connection's own (`onread`), not in a new Buffer per
      // read, and skip the stream's 'data' machinery; onData copies out what outlives a read.
      const socket = net.connect({ host, port, onread: {
        buffer: Buffer.allocUnsafe(readBufferBytes),
        callback: (bytes: number, buffer: Uint8Array) => {
          client?.onData(buffer as Buffer, bytes);
          return true;
        },
      } }, () => {
        socket.off("error", reject);
        client = new RespClient(socket);
        resolve(client);
      });
      socket.once("error", reject);
    });
  }

  /** Sends a command; resolves with the reply (an error reply resolves as a RespError value). */
  call(...args: (string | Buffer)[]): Promise<RespReply> {
    if (this.closed !== null) return Promise.reject(this.closed);
    const command = encodeCommand(args);
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.socket.write(command);
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private fail(error: Error): void {
    this.closed ??= error;
    for (const p of this.pending.splice(0)) p.reject(error);
  }

  /** `bytes` new bytes at the start of `read`, a buffer the next read overwrites. */
  private onData(read: Buffer, bytes: number): void {
    try {
      this.parse(read.subarray(0, bytes));
    } catch (error) {
      // A reply that is not RESP, or one nobody asked for: this connection is done.
      this.buffer = Buffer.alloc(0);
      this.fail(error instanceof Error ? error : new Error(String(error)));
      this.socket.destroy();
    }
  }

  private parse(fresh: Buffer): void {
    // A partial reply left by an earlier read is already a copy; joined, so is the whole.
    const shared = this.buffer.length === 0;
    let buf = shared ? fresh : Buffer.concat([this.buffer, fresh]);
    for (;;) {
      const parsed = parseReply(buf, 0);
      if (parsed === null) break;
      buf = buf.subarray(parsed.end);
      const next = this.pending.shift();
      if (next === undefined) throw new RespError("reply without a request");
      next.resolve(shared ? ownCopy(parsed.reply) : parsed.reply);
    }
    this.buffer = buf.length === 0 ? Buffer.alloc(0) : shared ? Buffer.from(buf) : buf;
  }
}

/** A reply parsed out of the shared read buffer, copied so that the next read cannot change it. */
function ownCopy(reply: RespReply): RespReply {
  if (Buffer.isBuffer(reply)) return Buffer.from(reply);
  if (Array.isArray(reply)) return reply.map(ownCopy);
  return reply;
}

/**
 * A command as RESP bytes. Text arguments only (the load generator's case) make one string,
 * which the socket encodes straight into its write: no Buffer per argument and no concat.
 */
export function encodeCommand(args: readonly (string | Buffer)[]): string | Buffer {
  if (args.every((arg) => typeof arg === "string")) {
    let text = `*${args.length}\r\n`;
    for (const arg of args as readonly string[]) {
      text += `$${Buffer.byteLength(arg, "utf8")}\r\n${arg}\r\n`;
    }
    return text;
  }
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === "string" ? Buffer.from(arg) : arg;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from("\r\n"));
  }
  return Buffer.concat(parts);
}

/** One reply starting at `at`, or null when the buffer does not hold all of it yet. */
function parseReply(buf: Buffer, at: number): { reply: RespReply; end: number } | null {
  const eol = buf.indexOf("\r\n", at);
  if (eol < 0) return null;
  const line = buf.toString("utf8", at + 1, eol);
  switch (buf[at]) {
    case 0x2b: // +
      return { reply: line, end: eol + 2 };
    case 0x2d: // -
      return { reply: new RespError(line), end: eol + 2 };
    case 0x3a: // :
      return { reply: Number(line), end: eol + 2 };
    case 0x24: {
      // $
      const length = Number(line);
      if (length < 0) return { reply: null, end: eol + 2 };
      if (buf.length < eol + 2 + length + 2) return null;
      return { reply: buf.subarray(eol + 2, eol + 2 + length), end: eol + 2 + length + 2 };
    }
    case 0x2a: {
      // *
      const count = Number(line);
      if (count < 0) return { reply: null, end: eol + 2 };
      const items: RespReply[] = [];
      let end = eol + 2;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buf, end);
        if (item === null) return null;
        items.push(item.reply);
        end = item.end;
      }
      return { reply: items, end };
    }
    default:
      throw new RespError(`unexpected reply type byte ${buf[at]}`);
  }
}
