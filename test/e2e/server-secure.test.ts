// A secured raft-store cluster end to end: members talk mutual TLS to each other, serve HTTPS
// and RESP over TLS, and require a client token (bearer for HTTP, AUTH for RESP). Requests
// without the token are refused; a follower forwards to the leader over HTTPS with the token;
// plaintext clients get nothing.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import https from "node:https";
import net from "node:net";
import tls from "node:tls";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { ProcessCluster } from "../support/process-cluster.js";

const fixtures = fileURLToPath(new URL("../../../test/fixtures/tls/", import.meta.url));
const ca = readFileSync(`${fixtures}ca.crt`);
const token = "s3cret-token";
const cluster = new ProcessCluster({
  size: 3,
  tickMs: 50,
  httpsCa: ca,
  token,
  flags: [
    "--tls-cert",
    `${fixtures}node-1.crt`,
    "--tls-key",
    `${fixtures}node-1.key`,
    "--tls-ca",
    `${fixtures}ca.crt`,
    "--token",
    token,
  ],
});
const clients: Redis[] = [];

function request(
  id: number,
  method: string,
  path: string,
  body?: string,
  auth = true,
): Promise<{ status: number; body: string }> {
  const [host, port] = cluster.http(id).split(":");
  const headers: Record<string, string> = auth ? { authorization: `Bearer ${token}` } : {};
  return new Promise((resolve, reject) => {
    const req = https.request({ host, port: Number(port), method, path, ca, headers }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => {
        text += d.toString();
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

let leader = 0;
let follower = 0;

before(async () => {
  await cluster.start();
  leader = await cluster.waitLeader();
  follower = [1, 2, 3].find((id) => id !== leader) ?? 1;
});

after(async () => {
  for (const c of clients) c.disconnect();
  await cluster.stop();
});

test("HTTPS with the token works, and a follower forwards to the leader over HTTPS", async () => {
  const put = await request(follower, "PUT", "/v1/kv/secure", "yes");
  assert.equal(put.status, 200, put.body);
  const get = await request(leader, "GET", "/v1/kv/secure");
  assert.equal(get.body, "yes");
});

test("HTTP without the token or with a wrong one is 401; health stays open", async () => {
  const missing = await request(follower, "GET", "/v1/kv/secure", undefined, false);
  assert.equal(missing.status, 401);
  assert.equal(JSON.parse(missing.body).code, "UNAUTHORIZED");
  assert.equal((await request(follower, "GET", "/health", undefined, false)).status, 200);
});

test("a plaintext HTTP client gets no answer from the TLS port", async () => {
  const port = Number(cluster.http(leader).split(":")[1]);
  const reply = await new Promise<string>((resolve) => {
    const socket = net.connect(port, "127.0.0.1", () =>
      socket.write("GET /health HTTP/1.1\r\nhost: x\r\n\r\n"),
    );
    let text = "";
    socket.on("data", (d) => {
      text += d.toString("latin1");
    });
    socket.on("close", () => resolve(text));
    socket.on("error", () => resolve(text));
    setTimeout(() => socket.destroy(), 1000);
  });
  assert.doesNotMatch(reply, /HTTP\/1\.1 200/);
});

/** Sends raw RESP over TLS and returns what the server answered. */
function rawTls(id: number, payload: string): Promise<string> {
  const [host, port] = cluster.resp(id).split(":");
  return new Promise((resolve) => {
    const socket = tls.connect({ host, port: Number(port), ca }, () => socket.write(payload));
    let text = "";
    socket.on("data", (d: Buffer) => {
      text += d.toString();
      if (text.split("\r\n").length > 2) socket.end();
    });
    socket.on("close", () => resolve(text));
    socket.on("error", () => resolve(text));
  });
}

test("RESP over TLS needs AUTH with the token", async () => {
  assert.match(
    await rawTls(follower, "*2\r\n$3\r\nGET\r\n$6\r\nsecure\r\n*1\r\n$4\r\nPING\r\n"),
    /^-NOAUTH/,
  );
  assert.match(
    await rawTls(follower, "*2\r\n$4\r\nAUTH\r\n$4\r\nnope\r\n*1\r\n$4\r\nPING\r\n"),
    /^-WRONGPASS/,
  );
  const [host, port] = cluster.resp(follower).split(":");
  const authed = new Redis({
    host,
    port: Number(port),
    tls: { ca },
    password: token,
    maxRetriesPerRequest: 1,
  });
  clients.push(authed);
  assert.equal(await authed.get("secure"), "yes");
  assert.equal(await authed.set("over-tls", "1"), "OK");
  assert.equal((await request(leader, "GET", "/v1/kv/over-tls")).body, "1");
});
