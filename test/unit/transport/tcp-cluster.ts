// Starts TCP transports on 127.0.0.1 (port 0) for the tests, wires them as peers of one another,
// records what each receives, and stops them all at the end.

import type { Message } from "../../../src/core/messages.js";
import { type NodeId, nodeId } from "../../../src/core/types.js";
import type { TcpTransportOptions } from "../../../src/transport/tcp/options.js";
import { createTcpTransport } from "../../../src/transport/tcp/tcp-transport.js";
import type { SnapshotHandler, Transport } from "../../../src/transport/transport.js";
import { CaptureLogger, waitFor } from "./helpers.js";

export interface TestNode {
  readonly id: NodeId;
  readonly transport: Transport;
  readonly received: Message[];
  readonly logger: CaptureLogger;
  readonly address: string;
}

export type NodeOptions = Partial<Omit<TcpTransportOptions, "localId">>;

/** Test defaults: short handshake timeout and backoff so that failures show quickly. */
export const fastOptions = {
  clusterId: "test-cluster",
  handshakeTimeoutMs: 200,
  reconnectDelayMinMs: 10,
  reconnectDelayMaxMs: 100,
} as const;

export async function startNode(
  id: number,
  options: NodeOptions = {},
  onSnapshot?: SnapshotHandler,
): Promise<TestNode> {
  const logger = new CaptureLogger();
  const transport = createTcpTransport({
    listen: "127.0.0.1:0",
    ...fastOptions,
    logger,
    ...options,
    localId: nodeId(id),
  });
  const received: Message[] = [];
  await transport.start((m) => received.push(m), onSnapshot);
  const address = transport.address();
  if (address === null) throw new Error(`node ${id} is not listening`);
  return { id: nodeId(id), transport, received, logger, address };
}

/** Starts `count` nodes (ids 1..count) that know one another. */
export async function startCluster(
  count: number,
  options: NodeOptions = {},
  onSnapshot?: (id: number) => SnapshotHandler,
): Promise<TestNode[]> {
  const nodes: TestNode[] = [];
  for (let id = 1; id <= count; id++) nodes.push(await startNode(id, options, onSnapshot?.(id)));
  for (const a of nodes) for (const b of nodes) if (a !== b) a.transport.setPeer(b.id, b.address);
  await waitFor(() => nodes.every((n) => connected(n)), "every node connected to its peers");
  return nodes;
}

export function connected(node: TestNode, peer?: NodeId): boolean {
  return node.transport
    .stats()
    .peers.filter((p) => peer === undefined || p.id === peer)
    .every((p) => p.connected);
}

export function peerStats(node: TestNode, peer: number) {
  const stats = node.transport.stats().peers.find((p) => p.id === peer);
  if (stats === undefined) throw new Error(`node ${node.id} has no peer ${peer}`);
  return stats;
}

export async function stopAll(nodes: readonly (TestNode | undefined)[]): Promise<void> {
  await Promise.all(nodes.map((n) => n?.transport.stop()));
}
