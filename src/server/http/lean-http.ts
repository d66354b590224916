// A small HTTP/1.1 server for the client API, on plain TCP or TLS sockets. node:http builds a
// stream-based IncomingMessage and ServerResponse per request and emits several events for
// each; under load that JS glue was the largest single cost on the leader (see bench/README.md).
// This server parses a request into one plain object with its whole body, and writes each
// response with one socket write.
//
// What it implements (RFC 9112): request line and header parsing with size limits, HTTP/1.1
// and HTTP/1.0 (persistent connections by default in 1.1, with `connection: keep-alive` in
// 1.0), Content-Length and chunked request bodies, `expect: 100-continue`, pipelined requests
// answered in order, HEAD responses without a body, an idle timeout, and backpressure when a
// client sends requests faster than it reads responses. A malformed request is answered
// 400 (431 for a head over the limit, 413 for a body over it, 501 for an unsupported transfer
// coding) and its connection closed; other connections are unaffected.

import { type AddressInfo, type Server, type Socket, createServer } from "node:net";
import { type TlsOptions, createServer as createTlsServer } from "node:tls";
import { assert } from "../../assert.js";

export interface LeanRequest {
  readonly method: string;
  /** The request target as sent: path and query. */
  readonly url: string;
  /** Header names in lower case; a repeated header's values joined with ", ". */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Buffer;
}

export interface LeanResponse {
  /**
   * Sends the whole response. `content-length` (and `connection` when needed) are added here;
   * header values must not contain CR or LF. Later calls are ignored.
   */
  send(
    status: number,
    headers: Readonly<Record<string, string | number>>,
    body: Buffer | string,
  ): void;
  /** Whether send() was called (or the connection is gone). */
  readonly sent: boolean;
}

export type LeanHandler = (req: LeanRequest, res: LeanResponse) => void;

export interface LeanHttpOptions {
  /** Largest request body accepted; a larger one is answered 413 and its connection closed. */
  readonly bodyBytesMax: number;
  /** Largest request line plus headers (default 16 KiB, as node:http). */
  readonly headBytesMax?: number;
  /** A connection idle (or stuck mid-request) this long is closed (default 65 s). */
  readonly idleTimeoutMs?: number;
  /** Serve HTTPS with these options (cert, key, ca). */
  readonly tls?: TlsOptions | null;
}

const defaultHeadBytesMax = 16 * 1024;
const defaultIdleTimeoutMs = 65_000;
/** Request bytes buffered while a request is being handled before the socket is paused. */
const pendingBytesMax = 256 * 1024;
/** Response bytes queued in the socket before reading pauses. */
const writableBytesMax = 1024 * 1024;
const chunkLineBytesMax = 1024;
const crlf = 0x0a0d; // "\r\n" read as a little-endian u16

const reasons: Record<number, string> = {
  100: "Continue", 200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request",
  401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
  408: "Request Timeout", 409: "Conflict", 412: "Precondition Failed",
  413: "Content Too Large", 421: "Misdirected Request", 429: "Too Many Requests",
  431: "Request Header Fields Too Large", 500: "Internal Server Error", 501: "Not Implemented",
  503: "Service Unavailable", 504: "Gateway Timeout", 505: "HTTP Version Not Supported",
};

/** A request the parser refused: answered with `status` and the connection closed. */
class ProtocolError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const tokenPattern = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const methodPattern = /^[A-Z]+$/;
const digitsPattern = /^[0-9]+$/;
const hexPattern = /^[0-9A-Fa-f]+$/;

export class LeanHttpServer {
  private readonly server: Server;
  private readonly connections = new Set<Connection>();
  private readonly settings: Required<Omit<LeanHttpOptions, "tls">>;

  constructor(options: LeanHttpOptions, private readonly handler: LeanHandler) {
    assert(options.bodyBytesMax >= 0, `bodyBytesMax ${options.bodyBytesMax}`);
    this.settings = {
      bodyBytesMax: options.bodyBytesMax,
      headBytesMax: options.headBytesMax ?? defaultHeadBytesMax,
      idleTimeoutMs: options.idleTimeoutMs ?? defaultIdleTimeoutMs,
    };
    const accept = (socket: Socket): void => {
      const connection = new Connection(socket, this.settings, this.handler, () =>
        this.connections.delete(connection));
      this.connections.add(connection);
    };
    if (options.tls === undefined || options.tls === null) {
      this.server = createServer({ noDelay: true }, accept);
    } else {
      const server = createTlsServer({ ...options.tls, ALPNProtocols: ["http/1.1"] }, accept);
      // A failed handshake concerns that client only.
      server.on("tlsClientError", () => undefined);
      this.server = server;
    }
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => {
        this.server.off("error", reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /** Stops accepting, closes every connection (requests in progress are dropped). */
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      for (const connection of this.connections) connection.destroy();
    });
  }
}

type BodyState =
  | { readonly kind: "length"; readonly remaining: number }
  | { readonly kind: "chunked" };

interface Head {
  readonly method: string;
  readonly url: string;
  readonly http10: boolean;
  readonly headers: Record<string, string | undefined>;
  readonly keepAlive: boolean;
  readonly body: BodyState;
  readonly expectContinue: boolean;
}

/** One client connection: parses requests in order and answers them one at a time. */
class Connection {
  /** Bytes received and not parsed yet. */
  private pending: Buffer = Buffer.alloc(0);
  /** The request whose body is being read, and its chunks so far. */
  private head: Head | null = null;
  private chunks: Buffer[] = [];
  private bodyBytes = 0;
  private continueSent = false;
  /** A request is with the handler; parsing waits (responses go out in request order). */
  private busy = false;
  /** pump() is on the stack: a response sent synchronously lets that loop go on. */
  private pumping = false;
  private closing = false;
  private paused = false;

  constructor(
    private readonly socket: Socket,
    private readonly o: Required<Omit<LeanHttpOptions, "tls">>,
    private readonly handler: LeanHandler,
    private readonly onClose: () => void,
  ) {
    socket.setNoDelay(true);
    socket.setTimeout(o.idleTimeoutMs, () => socket.destroy());
    socket.on("data", (data: Buffer) => this.received(data));
    socket.on("drain", () => this.maybeResume());
    socket.on("error", () => socket.destroy());
    socket.on("close", () => {
      this.closing = true;
      this.onClose();
    });
  }

  destroy(): void {
    this.closing = true;
    this.socket.destroy();
  }

  private received(data: Buffer): void {
    if (this.closing) return;
    this.pending = this.pending.length === 0 ? data : Buffer.concat([this.pending, data]);
    if (this.busy) {
      if (this.pending.length > pendingBytesMax) this.pause();
      return;
    }
    this.pump();
  }

  /** Parses and dispatches requests until the buffer runs out or one is being handled. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.busy && !this.closing) {
        if (this.head === null) {
          const head = this.parseHead();
          if (head === null) return;
          this.head = head;
          this.chunks = [];
          this.bodyBytes = 0;
          this.continueSent = false;
        }
        if (!this.readBody(this.head)) {
          this.sendContinue(this.head);
          return;
        }
        const head = this.head;
        this.head = null;
        const body = this.chunks.length === 1
          ? this.chunks[0] as Buffer
          : Buffer.concat(this.chunks, this.bodyBytes);
        this.chunks = [];
        this.dispatch(head, body);
      }
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.refuse(error);
    } finally {
      this.pumping = false;
    }
  }

  private dispatch(head: Head, body: Buffer): void {
    this.busy = true;
    let sent = false;
    const connection = this;
    const response: LeanResponse = {
      get sent() {
        return sent || connection.closing;
      },
      send(status, headers, payload) {
        if (sent) return;
        sent = true;
        connection.respond(head, status, headers, payload);
      },
    };
    try {
      this.handler({ method: head.method, url: head.url, headers: head.headers, body }, response);
    } catch (error) {
      // The handler answers its own errors; one that throws instead gets a bare 500.
      const message = JSON.stringify({ error: "internal error", code: "INTERNAL" });
      response.send(500, { "content-type": "application/json" }, message);
    }
  }

  private respond(
    head: Head,
    status: number,
    headers: Readonly<Record<string, string | number>>,
    payload: Buffer | string,
  ): void {
    if (this.closing) return;
    const close = !head.keepAlive;
    this.write(status, headers, payload, head.method === "HEAD", close, head.http10);
    this.busy = false;
    if (close) {
      this.closing = true;
      this.socket.end();
      return;
    }
    this.maybeResume();
    // Pipelined requests already received go on now, in order.
    if (this.pending.length > 0) this.pump();
  }

  private write(
    status: number,
    headers: Readonly<Record<string, string | number>>,
    payload: Buffer | string,
    omitBody: boolean,
    close: boolean,
    http10: boolean,
  ): void {
    const bodyBytes = typeof payload === "string" ? Buffer.byteLength(payload) : payload.length;
    let text = `HTTP/1.1 ${status} ${reasons[status] ?? "Unknown"}\r\n`;
    for (const name in headers) {
      if (name === "content-length" || name === "connection") continue;
      const value = String(headers[name]);
      assert(!/[\r\n]/.test(value) && tokenPattern.test(name), () => `bad response header ${name}`);
      text += `${name}: ${value}\r\n`;
    }
    text += `content-length: ${bodyBytes}\r\n`;
    if (close) text += "connection: close\r\n";
    else if (http10) text += "connection: keep-alive\r\n";
    text += "\r\n";
    const headBytes = Buffer.byteLength(text, "latin1");
    const out = Buffer.allocUnsafe(headBytes + (omitBody ? 0 : bodyBytes));
    out.write(text, 0, "latin1");
    if (!omitBody) {
      if (typeof payload === "string") out.write(payload, headBytes, "utf8");
      else payload.copy(out, headBytes);
    }
    this.socket.write(out);
    if (this.socket.writableLength > writableBytesMax) this.pause();
  }

  /** Answers a malformed request and closes the connection. */
  private refuse(error: ProtocolError): void {
    assert(!this.busy, "a parse error while a request is being handled");
    this.head = null;
    this.pending = Buffer.alloc(0);
    const code = error.status === 413 ? "TOO_LARGE" : "INVALID_REQUEST";
    const body = JSON.stringify({ error: error.message, code });
    this.write(error.status, { "content-type": "application/json" }, body, false, true, false);
    this.closing = true;
    this.socket.end();
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
  }

  private maybeResume(): void {
    if (!this.paused || this.busy || this.socket.writableLength > writableBytesMax) return;
    this.paused = false;
    this.socket.resume();
  }

  private sendContinue(head: Head): void {
    if (!head.expectContinue || this.continueSent || this.bodyBytes > 0) return;
    this.continueSent = true;
    this.socket.write("HTTP/1.1 100 Continue\r\n\r\n");
  }

  // ---- parsing ----

  /** The next request's line and headers, or null when they have not all arrived. */
  private parseHead(): Head | null {
    const buf = this.pending;
    // Tolerate empty lines before a request line (RFC 9112 section 2.2).
    let start = 0;
    while (start + 1 < buf.length && buf.readUInt16LE(start) === crlf) start += 2;
    const end = buf.indexOf("\r\n\r\n", start, "latin1");
    if (end < 0) {
      if (buf.length - start > this.o.headBytesMax) {
        throw new ProtocolError(431, `request head exceeds ${this.o.headBytesMax} bytes`);
      }
      if (start > 0) this.pending = buf.subarray(start);
      return null;
    }
    if (end - start > this.o.headBytesMax) {
      throw new ProtocolError(431, `request head exceeds ${this.o.headBytesMax} bytes`);
    }
    const lines = buf.toString("latin1", start, end).split("\r\n");
    this.pending = buf.subarray(end + 4);
    const requestLine = (lines[0] as string).split(" ");
    const [method, url, version] = requestLine;
    if (requestLine.length !== 3 || method === undefined || url === undefined ||
      !methodPattern.test(method) || url.length === 0 || /[\x00-\x20\x7f]/.test(url)) {
      throw new ProtocolError(400, "malformed request line");
    }
    if (version !== "HTTP/1.1" && version !== "HTTP/1.0") {
      throw new ProtocolError(version?.startsWith("HTTP/") === true ? 505 : 400,
        `unsupported protocol version ${JSON.stringify(version ?? "")}`);
    }
    if (!url.startsWith("/")) throw new ProtocolError(400, "the request target must be a path");
    const headers: Record<string, string | undefined> = {};
    for (let i = 1; i < lines.length; i += 1) {
      const line = lines[i] as string;
      const colon = line.indexOf(":");
      const name = colon > 0 ? line.slice(0, colon) : "";
      if (!tokenPattern.test(name)) throw new ProtocolError(400, "malformed header line");
      const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
      if (/[\x00\r\n]/.test(value)) throw new ProtocolError(400, "malformed header value");
      const key = name.toLowerCase();
      const previous = headers[key];
      headers[key] = previous === undefined ? value : `${previous}, ${value}`;
    }
    return this.headFrom(method, url, version === "HTTP/1.0", headers);
  }

  private headFrom(
    method: string,
    url: string,
    http10: boolean,
    headers: Record<string, string | undefined>,
  ): Head {
    const connection = headers.connection?.toLowerCase() ?? "";
    const keepAlive = http10 ? /\bkeep-alive\b/.test(connection) : !/\bclose\b/.test(connection);
    const coding = headers["transfer-encoding"];
    const lengthText = headers["content-length"];
    let body: BodyState;
    if (coding !== undefined) {
      // Both framings at once is how requests get smuggled past proxies: refuse it.
      if (lengthText !== undefined) {
        throw new ProtocolError(400, "both transfer-encoding and content-length");
      }
      if (coding.toLowerCase() !== "chunked" || http10) {
        throw new ProtocolError(501, `unsupported transfer-encoding ${JSON.stringify(coding)}`);
      }
      body = { kind: "chunked" };
    } else if (lengthText !== undefined) {
      if (!digitsPattern.test(lengthText) || lengthText.length > 15) {
        throw new ProtocolError(400, `bad content-length ${JSON.stringify(lengthText)}`);
      }
      const length = Number(lengthText);
      if (length > this.o.bodyBytesMax) {
        throw new ProtocolError(413,
          `body of ${length} bytes exceeds the limit of ${this.o.bodyBytesMax}`);
      }
      body = { kind: "length", remaining: length };
    } else {
      body = { kind: "length", remaining: 0 };
    }
    const expectContinue = !http10 && headers.expect?.toLowerCase() === "100-continue";
    return { method, url, http10, headers, keepAlive, body, expectContinue };
  }

  /** Moves body bytes from `pending` into `chunks`; true once the whole body is in. */
  private readBody(head: Head): boolean {
    if (head.body.kind === "length") {
      const need = head.body.remaining - this.bodyBytes;
      if (need === 0) return true;
      const take = Math.min(need, this.pending.length);
      if (take > 0) this.take(take);
      return this.bodyBytes === head.body.remaining;
    }
    return this.readChunks();
  }

  private take(bytes: number): void {
    this.chunks.push(this.pending.subarray(0, bytes));
    this.bodyBytes += bytes;
    this.pending = this.pending.subarray(bytes);
  }

  /**
   * Chunked coding: `size[;ext]\r\n data \r\n` ..., then `0\r\n`, trailer lines, `\r\n`. Each
   * call consumes whole chunks only, so a partly received chunk is parsed again from its size
   * line next time.
   */
  private readChunks(): boolean {
    for (;;) {
      const buf = this.pending;
      const lineEnd = buf.indexOf("\r\n", 0, "latin1");
      if (lineEnd < 0) {
        if (buf.length > chunkLineBytesMax) {
          throw new ProtocolError(400, "chunk size line too long");
        }
        return false;
      }
      const sizeText = buf.toString("latin1", 0, lineEnd).split(";")[0]?.trim() ?? "";
      if (!hexPattern.test(sizeText) || sizeText.length > 12) {
        throw new ProtocolError(400, "malformed chunk size");
      }
      const size = Number.parseInt(sizeText, 16);
      if (this.bodyBytes + size > this.o.bodyBytesMax) {
        throw new ProtocolError(413, `body exceeds the limit of ${this.o.bodyBytesMax} bytes`);
      }
      if (size === 0) {
        // The last chunk, then trailer lines (ignored) up to an empty line.
        const trailers = lineEnd + 2;
        let end: number;
        if (buf.length >= trailers + 2 && buf.readUInt16LE(trailers) === crlf) {
          end = trailers + 2;
        } else {
          const blank = buf.indexOf("\r\n\r\n", trailers, "latin1");
          end = blank < 0 ? -1 : blank + 4;
        }
        if (end < 0) {
          if (buf.length > this.o.headBytesMax) throw new ProtocolError(431, "trailers too long");
          return false;
        }
        this.pending = buf.subarray(end);
        return true;
      }
      const dataStart = lineEnd + 2;
      if (buf.length < dataStart + size + 2) return false;
      if (buf.readUInt16LE(dataStart + size) !== crlf) {
        throw new ProtocolError(400, "chunk data not followed by CRLF");
      }
      this.pending = buf.subarray(dataStart);
      this.take(size);
      this.pending = this.pending.subarray(2);
    }
  }
}
