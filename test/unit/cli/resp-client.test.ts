import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeCommand } from "../../../src/cli/resp-client.js";

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
