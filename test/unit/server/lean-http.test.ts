// Proves the lean HTTP/1.1 server over real sockets on 127.0.0.1: keep-alive and pipelining
// (responses in request order even when the handler answers out of order), bodies by
// Content-Length and chunked coding delivered in arbitrary pieces (seeded), expect
// 100-continue, HTTP/1.0, HEAD, connection: close, and every refusal (400, 413, 431, 501, 505)
// closing only its own connection. node:http's client talks to it too.

import assert from "node:assert/strict";
import http from "node:http";
import net from "node:net";
import { after, before, test } from "node:test";
import { seededRandom } from "../../../src/random.js";
import {
  type LeanRequest,
  type LeanResponse,
  LeanHttpServer,
} from "../../../src/server/http/lean-http.js";

const seed = Number(process.env["SEED"] ?? 11);
const bodyBytesMax = 4096;

/** Echoes the request as JSON; `?delay=N` answers after N event-loop turns; `/throw` throws. */
function handler(req: LeanRequest, res: LeanResponse): void {
  if (req.url === "/throw") throw new Error("handler bug");
  const delay = Number(/delay=(\d+)/.exec(req.url)?.[1] ?? 0);
  const answer = (): void => res.send(200, { "content-type": "application/json", "x-url": req.url },
    JSON.stringify({ method: req.method, url: req.url, headers: req.headers,
      body: req.body.toString("latin1") }));
  if (delay === 0) return answer();
  let turns = delay;
  const tick = (): void => {
    turns -= 1;
    if (turns <= 0) answer();
    else setImmediate(tick);
  };
  setImmediate(tick);
}

/** Every test ends well before this; a hung exchange fails instead of stalling the run. */
const slow = { timeout: 20_000 };

let server: LeanHttpServer;
let port = 0;

before(async () => {
  server = new LeanHttpServer({ bodyBytesMax, headBytesMax: 1024 }, handler);
  port = (await server.listen("127.0.0.1", 0)).port;
});

after(async () => {
  await server.close();
});

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Reads responses from raw bytes: status line, headers, content-length body. */
function parseReplies(data: string): { replies: Reply[]; rest: string } {
  const replies: Reply[] = [];
  let rest = data;
  for (;;) {
    const end = rest.indexOf("\r\n\r\n");
    if (end < 0) break;
    const [statusLine, ...lines] = rest.slice(0, end).split("\r\n");
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers["content-length"] ?? 0);
    if (rest.length < end + 4 + length) break;
    replies.push({ status: Number(statusLine?.split(" ")[1]), headers,
      body: rest.slice(end + 4, end + 4 + length) });
    rest = rest.slice(end + 4 + length);
  }
  return { replies, rest };
}

/** Sends `pieces` (pausing between them), collects until `count` replies or the socket ends. */
async function exchange(pieces: readonly (string | Buffer)[], count: number):
  Promise<{ replies: Reply[]; ended: boolean; raw: string }> {
  const socket = net.connect(port, "127.0.0.1");
  await new Promise<void>((resolve) => socket.once("connect", resolve));
  let raw = "";
  let ended = false;
  const done = new Promise<void>((resolve) => {
    socket.on("data", (data) => {
      raw += data.toString("latin1");
      if (parseReplies(withoutContinue(raw)).replies.length >= count) resolve();
    });
    socket.on("close", () => {
      ended = true;
      resolve();
    });
  });
  for (const piece of pieces) {
    socket.write(piece);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  await done;
  // A connection meant to close does so right after its last reply.
  await new Promise((resolve) => setTimeout(resolve, 20));
  ended ||= socket.destroyed || socket.readableEnded;
  socket.destroy();
  const { replies } = parseReplies(withoutContinue(raw));
  return { replies, ended, raw };
}

interface Echo {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: string;
}

function echoed(reply: Reply): Echo {
  return JSON.parse(reply.body) as Echo;
}

function withoutContinue(raw: string): string {
  return raw.replace(/^HTTP\/1\.1 100 Continue\r\n\r\n/, "");
}

test("keep-alive: two requests on a connection; headers lower-cased", slow, async () => {
  const { replies, ended } = await exchange([
    "GET /a?x=1 HTTP/1.1\r\nHost: h\r\nX-Thing:   v  \r\n\r\n",
    "POST /b HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello",
  ], 2);
  assert.equal(ended, false);
  assert.equal(replies.length, 2);
  const [first, second] = replies.map(echoed);
  assert.deepEqual([first?.method, first?.url, first?.headers["x-thing"], first?.body],
    ["GET", "/a?x=1", "v", ""]);
  assert.deepEqual([second?.method, second?.url, second?.body], ["POST", "/b", "hello"]);
  assert.equal(replies[0]?.headers["x-url"], "/a?x=1");
});

test("pipelined requests get their answers in request order", slow, async () => {
  const requests = [30, 0, 12, 1, 5].map((delay, i) =>
    `GET /p${i}?delay=${delay} HTTP/1.1\r\n\r\n`).join("");
  const { replies } = await exchange([requests], 5);
  assert.deepEqual(replies.map((r) => echoed(r).url.split("?")[0]),
    ["/p0", "/p1", "/p2", "/p3", "/p4"]);
});

test("seeded: length and chunked bodies survive any split into pieces", slow, async () => {
  const random = seededRandom(seed);
  for (let round = 0; round < 20; round++) {
    const bodies: string[] = [];
    let wire = "";
    const count = 1 + Math.floor(random() * 4);
    for (let i = 0; i < count; i++) {
      const body = "b".repeat(Math.floor(random() * 300)) + String(i);
      bodies.push(body);
      if (random() < 0.5) {
        wire += `PUT /r${i} HTTP/1.1\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
      } else {
        let chunked = "";
        for (let at = 0; at < body.length;) {
          const size = 1 + Math.floor(random() * 100);
          const part = body.slice(at, at + size);
          chunked += `${part.length.toString(16)}${random() < 0.3 ? ";ext=1" : ""}\r\n${part}\r\n`;
          at += size;
        }
        const trailer = random() < 0.3 ? "X-Trailer: t\r\n" : "";
        const head = `PUT /r${i} HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n`;
        wire += `${head}${chunked}0\r\n${trailer}\r\n`;
      }
    }
    const pieces: string[] = [];
    for (let at = 0; at < wire.length;) {
      const size = 1 + Math.floor(random() * 120);
      pieces.push(wire.slice(at, at + size));
      at += size;
    }
    const { replies } = await exchange(pieces, count);
    assert.deepEqual(replies.map((r) => echoed(r).body), bodies, `round ${round}`);
  }
});

test("expect: 100-continue gets an interim 100 before the body is sent", slow, async () => {
  const socket = net.connect(port, "127.0.0.1");
  await new Promise<void>((resolve) => socket.once("connect", resolve));
  let raw = "";
  socket.on("data", (data) => {
    raw += data.toString("latin1");
  });
  socket.write("PUT /c HTTP/1.1\r\ncontent-length: 3\r\nexpect: 100-continue\r\n\r\n");
  while (!raw.includes("100 Continue")) await new Promise((resolve) => setTimeout(resolve, 2));
  assert.equal(raw, "HTTP/1.1 100 Continue\r\n\r\n");
  socket.write("abc");
  while (parseReplies(raw.slice(25)).replies.length === 0) {
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  assert.equal(echoed(parseReplies(raw.slice(25)).replies[0] as Reply).body, "abc");
  socket.destroy();
});

test("HTTP/1.0 closes unless kept alive; connection: close closes", slow, async () => {
  const plain = await exchange(["GET /x HTTP/1.0\r\n\r\n"], 1);
  assert.equal(plain.replies[0]?.headers["connection"], "close");
  assert.equal(plain.ended, true);
  const kept = await exchange(["GET /x HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
    "GET /y HTTP/1.0\r\nconnection: keep-alive\r\n\r\n"], 2);
  assert.equal(kept.replies.length, 2);
  assert.equal(kept.replies[0]?.headers["connection"], "keep-alive");
  assert.equal(kept.ended, false);
  const closed = await exchange(
    ["GET /x HTTP/1.1\r\nconnection: close\r\n\r\nGET /never HTTP/1.1\r\n\r\n"], 2);
  assert.equal(closed.replies.length, 1);
  assert.equal(closed.ended, true);
});

test("HEAD gets the headers and content-length without a body", slow, async () => {
  const { raw } = await exchange(["HEAD /h HTTP/1.1\r\n\r\nGET /after HTTP/1.1\r\n\r\n"], 1);
  const head = raw.slice(0, raw.indexOf("\r\n\r\n"));
  assert.match(head, /content-length: \d+/);
  // The next response starts right after the HEAD response's blank line.
  assert.match(raw.slice(head.length + 4), /^HTTP\/1\.1 200 OK\r\n/);
});

test("refusals answer with their status and close only their connection", slow, async () => {
  const cases: [string, number][] = [
    ["\x00\x01garbage\r\n\r\n", 400],
    ["GET /x HTTP/1.1\r\nbad header line\r\n\r\n", 400],
    ["GET /x HTTP/1.1\r\nName : v\r\n\r\n", 400],
    ["GET x HTTP/1.1\r\n\r\n", 400],
    ["GET /x HTTP/2.0\r\n\r\n", 505],
    ["POST /x HTTP/1.1\r\ncontent-length: abc\r\n\r\n", 400],
    ["POST /x HTTP/1.1\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\nabc", 400],
    ["POST /x HTTP/1.1\r\ntransfer-encoding: gzip\r\n\r\n", 501],
    [`POST /x HTTP/1.1\r\ncontent-length: ${bodyBytesMax + 1}\r\n\r\n`, 413],
    [`POST /x HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n${(bodyBytesMax + 1).toString(16)}\r\n`,
      413],
    ["POST /x HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n", 400],
    ["POST /x HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabcXX", 400],
    [`GET /${"a".repeat(2000)} HTTP/1.1\r\n\r\n`, 431],
    [`GET /x HTTP/1.1\r\nx-long: ${"a".repeat(2000)}`, 431],
  ];
  for (const [wire, status] of cases) {
    const { replies, ended } = await exchange([wire], 1);
    assert.equal(replies[0]?.status, status, JSON.stringify(wire.slice(0, 60)));
    assert.equal(ended, true, JSON.stringify(wire.slice(0, 60)));
  }
  const ok = await exchange(["GET /still HTTP/1.1\r\n\r\n"], 1);
  assert.equal(ok.replies[0]?.status, 200);
});

test("a handler that throws gets a 500 and the connection keeps serving", slow, async () => {
  const { replies, ended } =
    await exchange(["GET /throw HTTP/1.1\r\n\r\nGET /ok HTTP/1.1\r\n\r\n"], 2);
  assert.deepEqual(replies.map((r) => r.status), [500, 200]);
  assert.equal(ended, false);
});

test("node:http's client with a keep-alive agent talks to it", slow, async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  try {
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      new Promise<string>((resolve, reject) => {
        const req = http.request({ host: "127.0.0.1", port, path: `/n${i}`, method: "PUT", agent,
          headers: { "content-type": "text/plain" } }, (res) => {
          let text = "";
          res.on("data", (chunk: Buffer) => {
            text += chunk.toString();
          });
          res.on("end", () => resolve(text));
        });
        req.on("error", reject);
        // No content-length: node sends this body chunked.
        req.write(`value-${i}`);
        req.end();
      })));
    assert.deepEqual(results.map((text) => (JSON.parse(text) as { body: string }).body),
      Array.from({ length: 10 }, (_, i) => `value-${i}`));
  } finally {
    agent.destroy();
  }
});
