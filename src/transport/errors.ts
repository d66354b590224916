// Operating errors of the transport. None is a bug in raft-store: each names a peer that sent
// something we refuse, or a setting we cannot honour. The transport handles the peer ones itself
// (it closes the connection and logs why); only configuration errors reach the caller.

import { RaftStoreError } from "../errors.js";

/** A frame's length prefix is above the limit; nothing of its body was buffered. */
export class FrameTooLargeError extends RaftStoreError {
  override readonly code = "FRAME_TOO_LARGE";
  constructor(
    readonly frameBytes: number,
    readonly frameBytesMax: number,
  ) {
    super(`frame of ${frameBytes} bytes exceeds frameBytesMax ${frameBytesMax}`);
  }
}

/** Bytes that are not a valid frame or message: bad kind, checksum, truncation, range. */
export class CodecError extends RaftStoreError {
  override readonly code = "BAD_FRAME";
}

/** The connection handshake failed: wrong magic, version, cluster, node id, or a timeout. */
export class HandshakeError extends RaftStoreError {
  override readonly code = "HANDSHAKE_FAILED";
}

/** A peer broke the protocol after its handshake, e.g. sent a message under another node's id. */
export class PeerProtocolError extends RaftStoreError {
  override readonly code = "PEER_PROTOCOL";
}

/** Listening on a non-loopback address without TLS requires the explicit `insecure` option. */
export class InsecureListenError extends RaftStoreError {
  override readonly code = "INSECURE_LISTEN";
  constructor(readonly address: string) {
    super(
      `refusing to listen on non-loopback address ${address} without TLS: ` +
        "configure tls ({ca, cert, key}) or set insecure: true (the server's --insecure flag)",
    );
  }
}

/** The listener could not be opened (address in use, not local, no permission). */
export class ListenError extends RaftStoreError {
  override readonly code = "LISTEN_FAILED";
}

/** A peer stopped reading: writes to it stayed blocked past writeStallTimeoutMs. */
export class PeerStalledError extends RaftStoreError {
  override readonly code = "PEER_STALLED";
}

/**
 * A snapshot stream failed: the peer is unknown or down, the connection broke, a limit or the
 * idle timeout was hit, the data failed its checksum, or one side aborted. The sender retries
 * with a new stream (the core keeps asking for the snapshot while the follower lags).
 */
export class SnapshotTransferError extends RaftStoreError {
  override readonly code = "SNAPSHOT_TRANSFER";
}
