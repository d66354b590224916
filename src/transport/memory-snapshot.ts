// Snapshot streams on the in-memory network: the sender hands chunks (copied, one per event-loop
// turn) to the receiver's bounded channel and waits for room, so back-pressure, a cut link, a
// stopped receiver and a refusing handler behave as on TCP, without sockets.

import type { NodeId } from "../core/types.js";
import { SnapshotTransferError } from "./errors.js";
import { SnapshotChunkChannel } from "./snapshot-channel.js";
import { describeError } from "./tcp/peer-input.js";
import type { SnapshotHandler, SnapshotOffer } from "./transport.js";

/** Chunks buffered per incoming stream before the sender waits. */
const chunksMax = 4;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** One stream into a MemoryTransport: its channel and its handler's verdict. */
export class MemoryInboundSnapshot {
  readonly channel = new SnapshotChunkChannel(chunksMax);
  /** undefined while the handler runs, null once it accepted, else why it refused. */
  outcome: string | null | undefined = undefined;
  /** Resolves (never rejects) when the handler has settled. */
  readonly settled: Promise<void>;

  constructor(
    readonly offer: SnapshotOffer,
    handler: SnapshotHandler,
  ) {
    this.settled = this.run(handler);
  }

  private async run(handler: SnapshotHandler): Promise<void> {
    await nextTurn(); // the handler starts on a later turn, as a network delivery would
    let reason: string | null = null;
    try {
      await handler({ ...this.offer, chunks: this.channel });
    } catch (error) {
      reason = describeError(error);
    }
    if (reason === null && !this.channel.fullyConsumed) {
      reason = "the handler returned before the stream ended";
    }
    this.outcome = reason;
    if (reason !== null) {
      this.channel.fail(new SnapshotTransferError(`the receiver refused the snapshot: ${reason}`));
    }
  }
}

/**
 * Streams `chunks` into `inbound`; resolves when its handler accepted. `linkUp` tells whether
 * the link from sender to receiver (and both nodes) is still up.
 */
export async function streamInMemory(
  chunks: AsyncIterable<Uint8Array>,
  inbound: MemoryInboundSnapshot,
  linkUp: () => boolean,
): Promise<void> {
  const channel = inbound.channel;
  try {
    for await (const chunk of chunks) {
      await nextTurn();
      await checkStream(inbound, linkUp);
      if (chunk.byteLength > 0) channel.push(copyOf(chunk));
      await channel.waitForRoom();
    }
    await nextTurn();
    await checkStream(inbound, linkUp);
  } catch (error) {
    const failure = error instanceof SnapshotTransferError
      ? error
      : new SnapshotTransferError(`the sender's data failed: ${describeError(error)}`, {
        cause: error,
      });
    channel.fail(new SnapshotTransferError(`the sender aborted: ${failure.message}`));
    throw failure;
  }
  channel.end();
  await inbound.settled;
  await checkStream(inbound, linkUp);
}

/** A copy the sender can no longer change (Buffer#slice would be a view, not a copy). */
function copyOf(chunk: Uint8Array): Uint8Array {
  const copy = new Uint8Array(chunk.byteLength);
  copy.set(chunk);
  return copy;
}

async function checkStream(inbound: MemoryInboundSnapshot, linkUp: () => boolean): Promise<void> {
  const to: NodeId = inbound.offer.to;
  if (!linkUp()) {
    inbound.channel.fail(new SnapshotTransferError("the link to the receiver was cut"));
    throw new SnapshotTransferError(`node ${to} became unreachable during the snapshot stream`);
  }
  const failure = inbound.channel.failure;
  if (failure === null) return;
  // The channel fails as the handler's loop exits, a moment before the handler settles with
  // its own (more telling) reason: give it a turn to do so.
  await Promise.race([inbound.settled, nextTurn()]);
  const reason = typeof inbound.outcome === "string" ? inbound.outcome : failure.message;
  throw new SnapshotTransferError(`node ${to} aborted the snapshot: ${reason}`);
}
