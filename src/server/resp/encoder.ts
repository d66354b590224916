// RESP2 and RESP3 reply encoding into one growing buffer: a pipeline's replies are written
// one after another and handed to the socket as a single Buffer. Growth doubles the capacity,
// so encoding n bytes costs O(n) copies; `take()` gives the bytes away (the socket keeps the
// Buffer until it is flushed) and starts a fresh buffer, so nothing is overwritten.
// The first buffer after take() is small enough (under half of Buffer.poolSize) to be cut from
// node's shared pool: most flushes carry one short reply ("+OK"), and a buffer of its own for
// each (an ArrayBuffer and a malloc, freed later by the GC) costs many times a pooled slice.

import { assert, assertNever } from "../../assert.js";
import type { Reply, RespProtocol } from "./reply.js";

/** Below Buffer.poolSize / 2 (8 KiB / 2), so allocUnsafe slices it from the shared pool. */
const initialBytes = 512;
const crlf = "\r\n";

export class ReplyWriter {
  private buffer: Buffer = Buffer.allocUnsafe(0);
  private length = 0;

  /** Bytes written since the last take(). */
  get byteLength(): number {
    return this.length;
  }

  write(reply: Reply, protocol: RespProtocol): void {
    switch (reply.kind) {
      case "simple":
        return this.text(`+${oneLine(reply.value)}${crlf}`);
      case "error":
        return this.text(`-${oneLine(reply.message)}${crlf}`);
      case "integer":
        assert(
          typeof reply.value === "bigint" || Number.isSafeInteger(reply.value),
          `integer reply ${reply.value} is not a safe integer`,
        );
        return this.ascii(`:${reply.value}${crlf}`);
      case "bulk":
        return this.bulk(reply.value);
      case "null":
        return this.ascii(protocol === 3 ? `_${crlf}` : `$-1${crlf}`);
      case "nullArray":
        return this.ascii(protocol === 3 ? `_${crlf}` : `*-1${crlf}`);
      case "array":
        this.ascii(`*${reply.items.length}${crlf}`);
        for (const item of reply.items) this.write(item, protocol);
        return;
      case "map":
        this.ascii(
          protocol === 3
            ? `%${reply.entries.length}${crlf}`
            : `*${reply.entries.length * 2}${crlf}`,
        );
        for (const [key, value] of reply.entries) {
          this.write(key, protocol);
          this.write(value, protocol);
        }
        return;
      default:
        return assertNever(reply, "reply");
    }
  }

  /** The bytes written so far; the writer starts over empty. */
  take(): Buffer {
    const bytes = this.buffer.subarray(0, this.length);
    this.buffer = Buffer.allocUnsafe(0);
    this.length = 0;
    return bytes;
  }

  private bulk(value: Uint8Array | string): void {
    const bytes = typeof value === "string" ? Buffer.byteLength(value, "utf8") : value.length;
    this.ascii(`$${bytes}${crlf}`);
    this.reserve(bytes + 2);
    if (typeof value === "string") {
      const written = this.buffer.write(value, this.length, "utf8");
      assert(written === bytes, `bulk wrote ${written} of ${bytes} bytes`);
    } else {
      this.buffer.set(value, this.length);
    }
    this.length += bytes;
    this.ascii(crlf);
  }

  private ascii(text: string): void {
    this.reserve(text.length);
    this.length += this.buffer.write(text, this.length, "latin1");
  }

  private text(text: string): void {
    const bytes = Buffer.byteLength(text, "utf8");
    this.reserve(bytes);
    this.length += this.buffer.write(text, this.length, "utf8");
  }

  private reserve(bytes: number): void {
    const needed = this.length + bytes;
    if (needed <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2, initialBytes));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }
}

/** Encodes one reply (for tests and one-off writes). */
export function encodeReply(reply: Reply, protocol: RespProtocol): Buffer {
  const writer = new ReplyWriter();
  writer.write(reply, protocol);
  return writer.take();
}

/** Simple strings and errors cannot hold CR or LF; Redis replaces them with spaces too. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]/g, " ");
}
