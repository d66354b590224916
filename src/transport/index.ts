// The transport module: the Transport port, the in-memory network for tests, and the TCP/TLS
// transport with its wire codec.

export type {
  IncomingSnapshot,
  PeerStats,
  SnapshotHandler,
  SnapshotOffer,
  Transport,
  TransportStats,
} from "./transport.js";
export type { LogFields, TransportLogger } from "./logger.js";
export { silentLogger } from "./logger.js";
export {
  CodecError,
  FrameTooLargeError,
  HandshakeError,
  InsecureListenError,
  ListenError,
  PeerProtocolError,
  PeerStalledError,
  SnapshotTransferError,
} from "./errors.js";
export { MemoryNetwork, MemoryTransport, type MemoryNetworkOptions } from "./memory-transport.js";
export { createTcpTransport } from "./tcp/tcp-transport.js";
export type { TcpTransportOptions, TlsOptions } from "./tcp/options.js";
export { CODEC_VERSION, decodeMessage, encodeMessage, messageBytes } from "./tcp/codec.js";
export { FrameDecoder } from "./tcp/frame-decoder.js";
export { PROTOCOL_VERSION } from "./tcp/handshake.js";
