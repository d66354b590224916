// A lean HTTP/1.1 client for the load generator: one kept-alive connection, one request at a
// time, the request written as a single buffer and the response parsed by hand (status line,
// Content-Length or chunked body). node:http's client spends ~100 µs of CPU per request, which
// on a small machine made the load generator, not the servers, the bottleneck; this one spends
// a fraction of that, and it drives etcd and raft-store alike.

import net from "node:net";

export interface RawResponse {
  readonly status: number;
  readonly body: Buffer;
}

const headerEnd = Buffer.from("\r\n\r\n");
const responseHeadBytesMax = 64 * 1024;

interface Pending {
  resolve(response: RawResponse): void;
  reject(error: Error): void;
}

export class RawHttpConnection {
  private socket: net.Socket | null = null;
  private buffer: Buffer = Buffer.alloc(0);
  private pending: Pending | null = null;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly extraHeaders = "",
  ) {}

  private connect(): net.Socket {
    const socket = net.connect({ host: this.host, port: this.port, noDelay: true });
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (error) => this.fail(error));
    socket.on("close", () => {
      if (this.socket === socket) this.socket = null;
      this.fail(new Error("connection closed"));
    });
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    return socket;
  }

  request(method: string, path: string, body?: Buffer | string): Promise<RawResponse> {
    if (this.pending !== null) return Promise.reject(new Error("one request at a time"));
    const payload = body === undefined ? null : typeof body === "string" ? Buffer.from(body) : body;
    const head =
      `${method} ${path} HTTP/1.1\r\nhost: ${this.host}:${this.port}\r\n${this.extraHeaders}` +
      `content-length: ${payload?.length ?? 0}\r\n\r\n`;
    const bytes =
      payload === null ? Buffer.from(head) : Buffer.concat([Buffer.from(head), payload]);
    const socket = this.socket ?? this.connect();
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      socket.write(bytes);
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }

  private fail(error: Error): void {
    const pending = this.pending;
    this.pending = null;
    pending?.reject(error);
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    let parsed: { response: RawResponse; end: number; close: boolean } | null;
    try {
      parsed = parseResponse(this.buffer);
    } catch (error) {
      this.fail(error as Error);
      this.close();
      return;
    }
    if (parsed === null) return;
    this.buffer = this.buffer.subarray(parsed.end);
    const pending = this.pending;
    this.pending = null;
    if (parsed.close) this.close();
    pending?.resolve(parsed.response);
  }
}

/** One complete response at the start of `buf`, or null when more bytes are needed. */
function parseResponse(buf: Buffer): { response: RawResponse; end: number; close: boolean } | null {
  const headEnd = buf.indexOf(headerEnd);
  if (headEnd < 0) {
    if (buf.length > responseHeadBytesMax) throw new Error("response head too large");
    return null;
  }
  const head = buf.toString("latin1", 0, headEnd);
  const status = Number(head.slice(9, 12));
  if (!head.startsWith("HTTP/1.") || !(status >= 100 && status < 600)) {
    throw new Error(`not an HTTP response: ${JSON.stringify(head.slice(0, 40))}`);
  }
  const lower = head.toLowerCase();
  const close = /\r\nconnection: *close/.test(lower);
  const bodyStart = headEnd + 4;
  const length = /\r\ncontent-length: *(\d+)/.exec(lower);
  if (length !== null) {
    const end = bodyStart + Number(length[1]);
    if (buf.length < end) return null;
    return { response: { status, body: buf.subarray(bodyStart, end) }, end, close };
  }
  if (/\r\ntransfer-encoding: *chunked/.test(lower))
    return parseChunked(buf, bodyStart, status, close);
  if (status === 204 || status === 304)
    return { response: { status, body: Buffer.alloc(0) }, end: bodyStart, close };
  throw new Error("a response without Content-Length or chunked encoding");
}

function parseChunked(
  buf: Buffer,
  start: number,
  status: number,
  close: boolean,
): { response: RawResponse; end: number; close: boolean } | null {
  const parts: Buffer[] = [];
  let at = start;
  for (;;) {
    const eol = buf.indexOf("\r\n", at);
    if (eol < 0) return null;
    const size = parseInt(buf.toString("latin1", at, eol).split(";")[0] ?? "", 16);
    if (!Number.isFinite(size)) throw new Error("bad chunk size");
    const dataStart = eol + 2;
    if (size === 0) {
      const trailerEnd = buf.indexOf(headerEnd, eol);
      const end =
        buf.indexOf("\r\n", dataStart) === dataStart
          ? dataStart + 2
          : trailerEnd < 0
            ? -1
            : trailerEnd + 4;
      if (end < 0) return null;
      return { response: { status, body: Buffer.concat(parts) }, end, close };
    }
    if (buf.length < dataStart + size + 2) return null;
    parts.push(buf.subarray(dataStart, dataStart + size));
    at = dataStart + size + 2;
  }
}
