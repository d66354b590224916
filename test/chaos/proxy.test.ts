// Proves the chaos proxy on plain sockets with fake Hello frames: it learns the sender from the
// Hello and forwards both ways; a blocked link refuses new connections and destroys open ones
// while other links (and the reverse direction) keep working; partitions block between groups
// only; heal restores; delay holds bytes back in order; a lossy link loses its connections;
// non-Hello or oversized first frames are refused; close() leaves nothing open.

import assert from "node:assert/strict";
import { type AddressInfo, type Server, type Socket, connect, createServer } from "node:net";
import { after, before, test } from "node:test";
import { nodeId } from "../../src/core/types.js";
import { FrameKind, buildFrame } from "../../src/transport/tcp/frame.js";
import { helloFrame } from "../../src/transport/tcp/handshake.js";
import { ChaosProxy, peekHello } from "./proxy.js";

/** A fake member: answers every chunk with "ack:" + the chunk's text. */
interface FakeMember {
  readonly server: Server;
  readonly port: number;
  readonly received: Buffer[];
}

async function fakeMember(): Promise<FakeMember> {
  const received: Buffer[] = [];
  const server = createServer((socket) => {
    socket.on("error", () => undefined);
    socket.on("data", (chunk: Buffer) => {
      received.push(chunk);
      socket.write(`ack:${chunk.length}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return { server, port: (server.address() as AddressInfo).port, received };
}

function hello(from: number, to: number): Buffer {
  return helloFrame({ senderId: nodeId(from), targetId: nodeId(to), clusterId: "chaos" });
}

/** Connects to `address` as member `from` and waits for the first answer (or the close). */
interface Dialed {
  readonly socket: Socket;
  readonly reply: string | null;
}

async function dial(address: string, from: number, to: number): Promise<Dialed> {
  const [host, port] = address.split(":") as [string, string];
  const socket = connect({ host, port: Number(port) });
  socket.on("error", () => undefined);
  socket.write(hello(from, to));
  const reply = await new Promise<string | null>((resolve) => {
    socket.once("data", (chunk: Buffer) => resolve(chunk.toString()));
    socket.once("close", () => resolve(null));
  });
  return { socket, reply };
}

function closed(socket: Socket): Promise<void> {
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => socket.once("close", () => resolve()));
}

const proxy = new ChaosProxy({ seed: 42, lossTickMs: 20 });
const members = new Map<number, FakeMember>();
const sockets: Socket[] = [];

async function open(from: number, to: number): Promise<Dialed> {
  const result = await dial(proxy.address(to), from, to);
  sockets.push(result.socket);
  return result;
}

before(async () => {
  await proxy.listen([1, 2, 3]);
  for (const id of [1, 2, 3]) {
    const member = await fakeMember();
    members.set(id, member);
    proxy.route(id, member.port);
  }
});

after(async () => {
  for (const socket of sockets) socket.destroy();
  await proxy.close();
  for (const member of members.values()) {
    await new Promise<void>((resolve) => member.server.close(() => resolve()));
  }
});

test("peekHello reads the sender, waits for a whole frame and refuses anything else", () => {
  const frame = hello(3, 1);
  assert.deepEqual(peekHello(frame), { kind: "hello", senderId: 3, targetId: 1 });
  assert.deepEqual(peekHello(frame.subarray(0, 5)), { kind: "need-more" });
  assert.deepEqual(peekHello(frame.subarray(0, frame.length - 1)), { kind: "need-more" });
  const message = buildFrame(FrameKind.Message, 4, (buf, offset) => buf.writeUInt32BE(7, offset));
  assert.equal(peekHello(message).kind, "refuse");
  const huge = Buffer.from(frame);
  huge.writeUInt32BE(1025, 0);
  assert.equal(peekHello(huge).kind, "refuse");
  const garbage = Buffer.from(frame);
  garbage.write("XXXX", 9);
  assert.equal(peekHello(garbage).kind, "refuse");
});

test("a connection is forwarded to the member with its hello, and answers come back", async () => {
  const { reply } = await open(1, 2);
  assert.equal(reply, `ack:${hello(1, 2).length}`);
  const received = Buffer.concat(members.get(2)?.received ?? []);
  assert.ok(received.subarray(0, hello(1, 2).length).equals(hello(1, 2)));
  assert.ok(proxy.connections().some((c) => c.from === 1 && c.to === 2));
});

test("a blocked link destroys its connections, refuses new ones, spares other links", async () => {
  const a = await open(1, 2);
  const b = await open(2, 1);
  const c = await open(3, 2);
  proxy.block(1, 2);
  await closed(a.socket);
  assert.equal((await open(1, 2)).reply, null);
  assert.equal(b.socket.destroyed, false, "the reverse direction 2→1 is untouched");
  assert.equal(c.socket.destroyed, false, "link 3→2 is untouched");
  assert.notEqual((await open(2, 1)).reply, null);
  proxy.heal(1, 2);
  assert.notEqual((await open(1, 2)).reply, null);
});

test("a partition blocks every link between groups, both ways, none inside one", async () => {
  proxy.partition([[1], [2, 3]]);
  for (const [from, to] of [[1, 2], [2, 1], [1, 3], [3, 1]] as const) {
    assert.equal((await open(from, to)).reply, null, `${from}→${to} is blocked`);
  }
  assert.notEqual((await open(2, 3)).reply, null);
  assert.notEqual((await open(3, 2)).reply, null);
  proxy.healAll();
  assert.notEqual((await open(1, 3)).reply, null);
});

test("a delayed link holds bytes back for the delay", async () => {
  proxy.setLink(3, 1, { delayMs: 150 });
  const started = Date.now();
  const { reply } = await open(3, 1);
  assert.notEqual(reply, null);
  assert.ok(Date.now() - started >= 140, `answered after ${Date.now() - started} ms`);
  proxy.heal(3, 1);
});

test("a lossy link loses connections; a first frame that is not a Hello is refused", async () => {
  const { socket } = await open(2, 3);
  proxy.setLink(2, 3, { lossRate: 1 });
  await closed(socket);
  proxy.heal(2, 3);
  const refusedBefore = proxy.refused;
  const [host, port] = proxy.address(3).split(":") as [string, string];
  const raw = connect({ host, port: Number(port) });
  raw.on("error", () => undefined);
  sockets.push(raw);
  raw.write(buildFrame(FrameKind.Message, 4, (buf, offset) => buf.writeUInt32BE(7, offset)));
  await closed(raw);
  assert.equal(proxy.refused, refusedBefore + 1);
});
