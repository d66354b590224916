// An incremental, bounded parser of RESP requests: multibulk arrays of bulk strings
// (`*N\r\n$len\r\nbytes\r\n...`) and inline commands (a line split like redis-cli input).
// `push` takes any chunk boundaries and returns every command completed so far, in order
// (pipelining). Unconsumed bytes sit in one growing buffer (capacity doubles, so n bytes
// cost O(n) copies); the state of a half-read multibulk (arguments read, length of the next
// bulk) is kept, so a large command is never parsed twice. The first protocol error is
// returned (never thrown) and the parser stops: the server answers it and closes the
// connection, as Redis does.

import { assert } from "../../assert.js";
import { ProtocolError } from "./errors.js";
import { splitInlineArgs } from "./inline.js";

export interface RespParserLimits {
  /** Largest bulk string (one argument). */
  readonly bulkBytesMax: number;
  /** Most arguments in one command (the command name included). */
  readonly argsMax: number;
  /** Longest inline command line. */
  readonly inlineBytesMax: number;
  /** Most argument bytes in one command. */
  readonly commandBytesMax: number;
}

export const defaultRespParserLimits: RespParserLimits = {
  bulkBytesMax: 4 * 1024 * 1024 + 64 * 1024,
  argsMax: 65536,
  inlineBytesMax: 64 * 1024,
  commandBytesMax: 64 * 1024 * 1024,
};

export interface ParseResult {
  /** Completed commands, in arrival order; each is the argument list (name first). */
  readonly commands: Buffer[][];
  /** Set once the stream is broken; the commands before it are still returned. */
  readonly error: ProtocolError | null;
}

const cr = 0x0d;
const lf = 0x0a;
/** No valid `*N` or `$N` header line is longer than this ("-" and 19 digits fit). */
const headerBytesMax = 32;
/** Above this, an empty buffer's memory is released rather than kept for the next command. */
const keepBytesMax = 1024 * 1024;

type Step = "progress" | "wait";

/** The byte as itself when printable ASCII, else as \xHH (a reply line must stay text). */
function printableByte(byte: number): string {
  if (byte >= 0x20 && byte < 0x7f) return String.fromCharCode(byte);
  return `\\x${byte.toString(16).padStart(2, "0")}`;
}

export class RespParser {
  private buffer: Buffer = Buffer.allocUnsafe(0);
  private start = 0;
  private end = 0;
  /** Where the search for an inline line's end resumes, so a long line is scanned once. */
  private scanFrom = 0;
  private failure: ProtocolError | null = null;
  /** Multibulk in progress: arguments still to read (0: between commands). */
  private argsLeft = 0;
  private args: Buffer[] = [];
  /** Length of the next bulk once its `$len` header is read, else -1. */
  private bulkLength = -1;
  private commandBytes = 0;
  private completed: Buffer[][] = [];

  constructor(private readonly limits: RespParserLimits = defaultRespParserLimits) {
    assert(limits.argsMax >= 1, `argsMax ${limits.argsMax} < 1`);
    assert(limits.bulkBytesMax >= 1, `bulkBytesMax ${limits.bulkBytesMax} < 1`);
  }

  push(chunk: Uint8Array): ParseResult {
    if (this.failure !== null) return { commands: [], error: this.failure };
    this.append(chunk);
    try {
      while (this.step() === "progress");
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.failure = error;
      this.release();
    }
    const commands = this.completed;
    this.completed = [];
    if (this.start === this.end) this.reset();
    return { commands, error: this.failure };
  }

  /** Parses one header, bulk or inline line if the buffer holds all of it. */
  private step(): Step {
    if (this.start === this.end) return "wait";
    if (this.argsLeft === 0) {
      return this.buffer[this.start] === 0x2a ? this.multibulkHeader() : this.inline();
    }
    return this.bulkLength < 0 ? this.bulkHeader() : this.bulkBody();
  }

  private multibulkHeader(): Step {
    const count = this.headerNumber("mbulk", "invalid multibulk length");
    if (count === null) return "wait";
    if (count > this.limits.argsMax) throw new ProtocolError("invalid multibulk length");
    // `*0` and `*-1` are empty requests: Redis skips them without a reply.
    if (count > 0) {
      this.argsLeft = count;
      this.args = [];
      this.commandBytes = 0;
    }
    return "progress";
  }

  private bulkHeader(): Step {
    const type = this.buffer[this.start] ?? 0;
    if (type !== 0x24) {
      throw new ProtocolError(`expected '$', got '${printableByte(type)}'`);
    }
    const length = this.headerNumber("bulk", "invalid bulk length");
    if (length === null) return "wait";
    if (length < 0 || length > this.limits.bulkBytesMax) {
      throw new ProtocolError("invalid bulk length");
    }
    this.commandBytes += length;
    if (this.commandBytes > this.limits.commandBytesMax) {
      throw new ProtocolError("too big request");
    }
    this.bulkLength = length;
    return "progress";
  }

  private bulkBody(): Step {
    const length = this.bulkLength;
    if (this.end - this.start < length + 2) return "wait";
    const after = this.start + length;
    if (this.buffer[after] !== cr || this.buffer[after + 1] !== lf) {
      throw new ProtocolError("expected CRLF after bulk string");
    }
    // A copy: the parser's buffer is reused once these bytes are consumed.
    this.args.push(Buffer.from(this.buffer.subarray(this.start, after)));
    this.consume(length + 2);
    this.bulkLength = -1;
    this.argsLeft--;
    if (this.argsLeft === 0) {
      this.completed.push(this.args);
      this.args = [];
    }
    return "progress";
  }

  /**
   * The integer of a `*N` or `$N` line (type byte at `start`), consuming the line; null when
   * the line is not complete yet.
   */
  private headerNumber(what: "mbulk" | "bulk", invalid: string): number | null {
    const limit = Math.min(this.end, this.start + headerBytesMax);
    const crAt = this.buffer.subarray(this.start, limit).indexOf(cr);
    if (crAt < 0) {
      if (limit - this.start >= headerBytesMax) {
        throw new ProtocolError(`too big ${what} count string`);
      }
      return null;
    }
    const lineEnd = this.start + crAt;
    if (lineEnd + 1 >= this.end) return null;
    if (this.buffer[lineEnd + 1] !== lf) throw new ProtocolError(invalid);
    const digits = this.buffer.toString("latin1", this.start + 1, lineEnd);
    if (!/^(0|-?[1-9][0-9]{0,17})$/.test(digits)) throw new ProtocolError(invalid);
    this.consume(lineEnd + 2 - this.start);
    return Number(digits);
  }

  private inline(): Step {
    const from = Math.max(this.scanFrom, this.start);
    const lfAt = this.buffer.subarray(from, this.end).indexOf(lf);
    if (lfAt < 0) {
      if (this.end - this.start > this.limits.inlineBytesMax) {
        throw new ProtocolError("too big inline request");
      }
      this.scanFrom = this.end;
      return "wait";
    }
    const lineEnd = from + lfAt;
    if (lineEnd - this.start > this.limits.inlineBytesMax) {
      throw new ProtocolError("too big inline request");
    }
    const stripped = this.buffer[lineEnd - 1] === cr && lineEnd > this.start ? 1 : 0;
    const args = splitInlineArgs(this.buffer.subarray(this.start, lineEnd - stripped));
    if (args === null) throw new ProtocolError("unbalanced quotes in request");
    if (args.length > this.limits.argsMax) throw new ProtocolError("invalid multibulk length");
    this.consume(lineEnd + 1 - this.start);
    if (args.length > 0) this.completed.push(args);
    return "progress";
  }

  private consume(bytes: number): void {
    assert(bytes > 0, `consume(${bytes})`);
    assert(this.start + bytes <= this.end, `consume(${bytes}) past the buffered bytes`);
    this.start += bytes;
    this.scanFrom = this.start;
  }

  private append(chunk: Uint8Array): void {
    if (this.end + chunk.length > this.buffer.length) {
      const live = this.end - this.start;
      // Compact in place when that leaves room; else grow to at least twice the live bytes.
      const target =
        live + chunk.length <= this.buffer.length / 2
          ? this.buffer
          : Buffer.allocUnsafe(Math.max(live + chunk.length, live * 2, 4096));
      this.buffer.copy(target, 0, this.start, this.end);
      this.scanFrom -= this.start;
      this.start = 0;
      this.end = live;
      this.buffer = target;
    }
    this.buffer.set(chunk, this.end);
    this.end += chunk.length;
  }

  /** Everything buffered was consumed: start over at offset 0, dropping a large buffer. */
  private reset(): void {
    this.start = 0;
    this.end = 0;
    this.scanFrom = 0;
    if (this.buffer.length > keepBytesMax) this.buffer = Buffer.allocUnsafe(0);
  }

  private release(): void {
    this.buffer = Buffer.allocUnsafe(0);
    this.start = 0;
    this.end = 0;
    this.scanFrom = 0;
    this.args = [];
  }
}
