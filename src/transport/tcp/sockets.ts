// Creates listeners and outgoing connections, plain TCP or mutual TLS. With TLS both sides
// present a certificate signed by the cluster CA and both verify the other's (requestCert and
// rejectUnauthorized on the server, rejectUnauthorized and the host check on the client).

import { type Server, type Socket, connect as netConnect, createServer, isIP } from "node:net";
import { type TLSSocket, connect as tlsConnect, createServer as createTlsServer } from "node:tls";
import type { Address, ResolvedOptions } from "./options.js";

export interface ListenerHandlers {
  /** Every accepted TCP connection, before TLS (so that stop() can close it). */
  readonly onConnection: (raw: Socket) => void;
  /** A connection ready for the hello exchange (after TLS, if any). */
  readonly onReady: (socket: Socket) => void;
  /** A TLS handshake failed (bad or missing client certificate, timeout). */
  readonly onTlsError: (error: Error, socket: TLSSocket) => void;
}

export function createListener(o: ResolvedOptions, handlers: ListenerHandlers): Server {
  let server: Server;
  if (o.tls === null) {
    server = createServer({ noDelay: true }, handlers.onReady);
  } else {
    server = createTlsServer(
      {
        ca: o.tls.ca,
        cert: o.tls.cert,
        key: o.tls.key,
        requestCert: true,
        rejectUnauthorized: true,
        minVersion: "TLSv1.3",
        handshakeTimeout: o.handshakeTimeoutMs,
      },
      handlers.onReady,
    );
    server.on("tlsClientError", handlers.onTlsError);
  }
  server.on("connection", handlers.onConnection);
  server.maxConnections = o.inboundConnectionsMax;
  return server;
}

export interface Dialled {
  readonly socket: Socket;
  /** The event after which the hello may be sent. */
  readonly readyEvent: "connect" | "secureConnect";
}

export function dial(o: ResolvedOptions, to: Address): Dialled {
  if (o.tls === null) {
    const socket = netConnect({ host: to.host, port: to.port, noDelay: true });
    return { socket, readyEvent: "connect" };
  }
  const socket = tlsConnect({
    host: to.host,
    port: to.port,
    ca: o.tls.ca,
    cert: o.tls.cert,
    key: o.tls.key,
    rejectUnauthorized: true,
    minVersion: "TLSv1.3",
    // SNI must not carry an IP address (RFC 6066); the certificate check uses `host` either way.
    ...(isIP(to.host) === 0 ? { servername: to.host } : {}),
  });
  socket.setNoDelay(true);
  return { socket, readyEvent: "secureConnect" };
}
