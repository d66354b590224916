// The RESP floor's server (resp-floor.ts), in its own process: raft-store's RESP parser and one
// reply per command (+OK, or a null bulk for GET), no Raft, no state. It reports its port over
// IPC and exits when its parent goes away.

import { type AddressInfo, createServer } from "node:net";
import { RespParser } from "../src/server/resp/parser.js";

const ok = "+OK\r\n";
const none = "$-1\r\n";

const server = createServer((socket) => {
  socket.setNoDelay(true);
  const parser = new RespParser();
  socket.on("data", (chunk: Buffer) => {
    const { commands, error } = parser.push(chunk);
    if (error !== null) {
      socket.end(`-ERR ${error.message}\r\n`);
      return;
    }
    let replies = "";
    for (const args of commands) {
      replies += args[0]?.toString("latin1").toUpperCase() === "GET" ? none : ok;
    }
    if (replies !== "") socket.write(replies);
  });
  socket.on("error", () => socket.destroy());
});
server.listen(0, "127.0.0.1", () => process.send?.((server.address() as AddressInfo).port));
process.on("disconnect", () => process.exit(0));
