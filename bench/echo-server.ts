// A loopback TCP echo server in its own process, for the cluster benchmark's round-trip floor.
// It reports its port over IPC and exits when its parent goes away.

import { type AddressInfo, createServer } from "node:net";

const server = createServer((socket) => {
  socket.setNoDelay(true);
  socket.on("data", (data) => socket.write(data));
});
server.listen(0, "127.0.0.1", () => process.send?.((server.address() as AddressInfo).port));
process.on("disconnect", () => process.exit(0));
