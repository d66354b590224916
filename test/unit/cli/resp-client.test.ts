import assert from "node:assert/strict";
import { type AddressInfo, type Socket, createServer } from "node:net";
import { test } from "node:test";
import { RespClient, RespError, encodeCommand } from "../../../src/cli/resp-client.js";

const bytesOf = (encoded: string | Buffer): Buffer =>
  typeof encoded === "string" ? Buffer.from(encoded, "utf8") : encoded;

test("a command of text arguments encodes as RESP, lengths in bytes", () => {
  assert.equal(
    bytesOf(encodeCommand(["SET", "clé", "v"])).toString("utf8"),
    "*3\r\n$3\r\nSET\r\n$4\r\nclé\r\n$1\r\nv\r\n",
  );
  assert.equal(bytesOf(encodeCommand([])).toString(), "*0\r\n");
});

test("text and Buffer arguments give the same bytes", () => {
  const args = ["SET", "k\u{1F600}", "", "x".repeat(300)];
  const asText = bytesOf(encodeCommand(args));
  const asBuffers = bytesOf(encodeCommand(args.map((a) => Buffer.from(a, "utf8"))));
  assert.deepEqual(asText, asBuffers);
  const mixed = bytesOf(encodeCommand(["SET", Buffer.from([0, 255, 13, 10]), "v"]));
  assert.deepEqual(mixed, Buffer.concat([
    Buffer.from("*3\r\n$3\r\nSET\r\n$4\r\n"), Buffer.from([0, 255, 13, 10]),
    Buffer.from("\r\n$1\r\nv\r\n"),
  ]));
});

test("replies split across reads, and bulk replies kept after later reads reuse the buffer",
  { timeout: 20_000 }, async () => {
    // The server answers each command with pieces of a scripted byte stream, cut at awkward
    // places (inside a length, inside a bulk payload, between \r and \n).
    const bulkA = "a".repeat(70_000); // longer than the client's read buffer
    const script = [
      ["$3\r\nabc\r\n"], // whole in one read
      ["$5\r\nhel", "lo\r\n"],
      [`$${bulkA.length}\r\n${bulkA.slice(0, 100)}`, `${bulkA.slice(100)}\r`, "\n"],
      ["*2\r\n$1\r\nx\r\n:4", "2\r\n"],
      ["-ERR no\r\n"],
      ["$-1\r\n+OK\r\n$3\r\nzzz\r\n"], // three replies in one read
    ];
    let commands = 0;
    const server = createServer((socket: Socket) => {
      socket.setNoDelay(true);
      socket.on("data", async () => {
        const pieces = script[commands++] ?? [];
        for (const piece of pieces) {
          socket.write(piece);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const client = await RespClient.connect("127.0.0.1", (server.address() as AddressInfo).port);
    try {
      const whole = await client.call("GET", "w");
      const first = await client.call("GET", "a");
      const second = await client.call("GET", "b");
      assert.deepEqual(await client.call("X"), [Buffer.from("x"), 42]);
      const error = await client.call("X");
      assert.ok(error instanceof RespError);
      assert.equal(error.message, "ERR no");
      const last = [client.call("X"), client.call("Y"), client.call("Z")];
      assert.deepEqual(await Promise.all(last), [null, "OK", Buffer.from("zzz")]);
      // Read after every later reply landed in the client's read buffer: still intact.
      assert.equal((whole as Buffer).toString(), "abc");
      assert.equal((first as Buffer).toString(), "hello");
      assert.equal((second as Buffer).toString(), bulkA);
    } finally {
      client.close();
      server.close();
    }
  });

test("a reply that is not RESP fails the call and the connection, not the process", async () => {
  const server = createServer((socket: Socket) => {
    socket.on("data", () => socket.write("?what\r\n"));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const client = await RespClient.connect("127.0.0.1", (server.address() as AddressInfo).port);
  try {
    await assert.rejects(client.call("PING"), /unexpected reply type byte 63/);
    await assert.rejects(client.call("PING"), /unexpected reply type byte 63/);
  } finally {
    client.close();
    server.close();
  }
});
