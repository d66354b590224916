// A fault-injecting TCP proxy for the peer links of a real cluster. Each member advertises a
// proxy listener as its peer address; the proxy forwards to the member's real peer port. Every
// raft-store peer connection opens with a Hello frame naming its sender, and each member dials
// its own connections to send, so a connection accepted by member B's listener whose Hello says
// "from A" carries the directed link A→B. Faults are set per directed link: blocked (new
// connections refused, open ones destroyed), a delay on every chunk, or loss (connections
// destroyed at random moments, drawn from a seeded generator).

import { type AddressInfo, type Server, type Socket, connect, createServer } from "node:net";
import { Sfc32 } from "../../src/core/prng.js";
import {
  FrameKind,
  frameHeaderBytes,
  handshakeFrameBytesMax,
} from "../../src/transport/tcp/frame.js";
import { decodeHello } from "../../src/transport/tcp/handshake.js";

/** The faults of one directed link. */
export interface LinkFault {
  readonly blocked: boolean;
  readonly delayMs: number;
  /** Probability, per loss tick, that each open connection of the link is destroyed. */
  readonly lossRate: number;
}

const healthy: LinkFault = { blocked: false, delayMs: 0, lossRate: 0 };

/** What the first bytes of a connection say. */
export type HelloPeek =
  | { readonly kind: "need-more" }
  | { readonly kind: "refuse"; readonly reason: string }
  | { readonly kind: "hello"; readonly senderId: number; readonly targetId: number };

/**
 * Reads the Hello frame at the start of `buf` without trusting it: a frame longer than the
 * handshake bound or of another kind is refused before it is buffered.
 */
export function peekHello(buf: Buffer): HelloPeek {
  if (buf.length < frameHeaderBytes) return { kind: "need-more" };
  const payloadBytes = buf.readUInt32BE(0);
  if (payloadBytes > handshakeFrameBytesMax) {
    return { kind: "refuse", reason: `first frame of ${payloadBytes} bytes` };
  }
  const kind = buf.readUInt8(4);
  if (kind !== FrameKind.Hello && kind !== FrameKind.SnapshotHello) {
    return { kind: "refuse", reason: `first frame of kind ${kind} is not a Hello` };
  }
  if (buf.length < frameHeaderBytes + payloadBytes) return { kind: "need-more" };
  try {
    const hello = decodeHello(buf.subarray(frameHeaderBytes, frameHeaderBytes + payloadBytes));
    if (!("senderId" in hello)) return { kind: "refuse", reason: `version ${hello.version}` };
    return { kind: "hello", senderId: hello.senderId, targetId: hello.targetId };
  } catch (error) {
    return { kind: "refuse", reason: `bad hello: ${(error as Error).message}` };
  }
}

interface Connection {
  readonly from: number;
  readonly to: number;
  readonly client: Socket;
  upstream: Socket | null;
}

export interface ChaosProxyOptions {
  readonly seed: number;
  /** How often lossy links roll the dice on each open connection (default 200 ms). */
  readonly lossTickMs?: number;
  /** How long a new connection may take to send its Hello (default 5 s). */
  readonly helloTimeoutMs?: number;
}

export class ChaosProxy {
  private readonly listeners = new Map<number, Server>();
  private readonly ports = new Map<number, number>();
  private readonly targets = new Map<number, number>();
  private readonly links = new Map<string, LinkFault>();
  private readonly open = new Set<Connection>();
  private readonly pending = new Set<Socket>();
  private readonly random: Sfc32;
  private lossTimer: NodeJS.Timeout | null = null;
  /** Connections forwarded and refused so far, for tests and progress lines. */
  forwarded = 0;
  refused = 0;

  constructor(private readonly o: ChaosProxyOptions) {
    this.random = new Sfc32(o.seed);
  }

  /** Opens one listener per member id on 127.0.0.1 (an ephemeral port each). */
  async listen(ids: readonly number[]): Promise<void> {
    for (const id of ids) {
      if (this.listeners.has(id)) continue;
      const server = createServer((socket) => this.accept(id, socket));
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
      });
      this.listeners.set(id, server);
      this.ports.set(id, (server.address() as AddressInfo).port);
    }
    const tick = this.o.lossTickMs ?? 200;
    this.lossTimer ??= setInterval(() => this.lossTick(), tick);
    this.lossTimer.unref();
  }

  /** The address other members dial to reach member `id`. */
  address(id: number): string {
    const port = this.ports.get(id);
    if (port === undefined) throw new Error(`the proxy has no listener for member ${id}`);
    return `127.0.0.1:${port}`;
  }

  /** Forwards member `id`'s listener to its real peer port; returns the listener's address. */
  route(id: number, targetPort: number): string {
    this.targets.set(id, targetPort);
    return this.address(id);
  }

  fault(from: number, to: number): LinkFault {
    return this.links.get(linkKey(from, to)) ?? healthy;
  }

  /** Sets the faults of link from→to (fields not given keep their value). */
  setLink(from: number, to: number, change: Partial<LinkFault>): void {
    const next = { ...this.fault(from, to), ...change };
    this.links.set(linkKey(from, to), next);
    if (next.blocked) this.destroyWhere((c) => c.from === from && c.to === to);
  }

  /** Refuses connections dialed by `from` to `to` and destroys the open ones. */
  block(from: number, to: number): void {
    this.setLink(from, to, { blocked: true });
  }

  /** Blocks every link between different groups, both ways; ids in no group are untouched. */
  partition(groups: readonly (readonly number[])[]): void {
    groups.forEach((group, g) => {
      for (const other of groups.slice(g + 1)) {
        for (const a of group) {
          for (const b of other) {
            this.block(a, b);
            this.block(b, a);
          }
        }
      }
    });
  }

  /** Clears every fault of link from→to. */
  heal(from: number, to: number): void {
    this.links.delete(linkKey(from, to));
  }

  healAll(): void {
    this.links.clear();
  }

  /** Open forwarded connections (dialer → listener owner), for tests. */
  connections(): { from: number; to: number }[] {
    return [...this.open].map((c) => ({ from: c.from, to: c.to }));
  }

  async close(): Promise<void> {
    if (this.lossTimer !== null) clearInterval(this.lossTimer);
    this.lossTimer = null;
    this.destroyWhere(() => true);
    for (const socket of this.pending) socket.destroy();
    this.pending.clear();
    await Promise.all([...this.listeners.values()].map((server) =>
      new Promise<void>((resolve) => server.close(() => resolve()))));
    this.listeners.clear();
  }

  private accept(to: number, client: Socket): void {
    this.pending.add(client);
    client.setNoDelay(true);
    client.on("error", () => undefined);
    let buffered = Buffer.alloc(0);
    const timer = setTimeout(() => client.destroy(), this.o.helloTimeoutMs ?? 5_000);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const peek = peekHello(buffered);
      if (peek.kind === "need-more") return;
      clearTimeout(timer);
      client.off("data", onData);
      client.pause();
      this.pending.delete(client);
      if (peek.kind === "refuse") return this.refuse(client);
      this.forward({ from: peek.senderId, to, client, upstream: null }, buffered);
    };
    client.on("data", onData);
    client.once("close", () => {
      clearTimeout(timer);
      this.pending.delete(client);
    });
  }

  private refuse(client: Socket): void {
    this.refused += 1;
    client.destroy();
  }

  private forward(connection: Connection, first: Buffer): void {
    const { from, to, client } = connection;
    const link = this.fault(from, to);
    const targetPort = this.targets.get(to);
    const lost = link.lossRate > 0 && this.random.chance(link.lossRate);
    if (targetPort === undefined || link.blocked || lost) return this.refuse(client);
    this.forwarded += 1;
    const upstream = connect({ host: "127.0.0.1", port: targetPort });
    upstream.setNoDelay(true);
    connection.upstream = upstream;
    this.open.add(connection);
    const end = (): void => {
      this.open.delete(connection);
      client.destroy();
      upstream.destroy();
    };
    upstream.on("error", end);
    upstream.on("close", end);
    client.on("error", end);
    client.on("close", end);
    this.relay(connection, client, upstream, first);
    this.relay(connection, upstream, client, null);
    client.resume();
  }

  /**
   * Copies src to dst in order, each chunk held for the link's current delay. Chunks wait in
   * a queue behind the one in flight, so a delay change never reorders bytes; a full dst
   * pauses src (backpressure).
   */
  private relay(connection: Connection, src: Socket, dst: Socket, first: Buffer | null): void {
    const queue: { due: number; chunk: Buffer }[] = [];
    let timer: NodeJS.Timeout | null = null;
    const flush = (): void => {
      timer = null;
      while (queue.length > 0) {
        const head = queue[0] as { due: number; chunk: Buffer };
        const wait = head.due - Date.now();
        if (wait > 0) {
          timer = setTimeout(flush, wait);
          return;
        }
        queue.shift();
        if (!dst.destroyed && !dst.write(head.chunk)) {
          src.pause();
          dst.once("drain", () => src.resume());
        }
      }
    };
    const push = (chunk: Buffer): void => {
      const delayMs = this.fault(connection.from, connection.to).delayMs;
      queue.push({ due: Date.now() + delayMs, chunk });
      if (timer === null) flush();
    };
    if (first !== null) push(first);
    src.on("data", push);
    src.once("close", () => {
      if (timer !== null) clearTimeout(timer);
    });
  }

  private lossTick(): void {
    for (const connection of [...this.open]) {
      const rate = this.fault(connection.from, connection.to).lossRate;
      if (rate > 0 && this.random.chance(rate)) this.destroy(connection);
    }
  }

  private destroyWhere(match: (c: Connection) => boolean): void {
    for (const connection of [...this.open]) if (match(connection)) this.destroy(connection);
  }

  private destroy(connection: Connection): void {
    this.open.delete(connection);
    connection.client.destroy();
    connection.upstream?.destroy();
  }
}

function linkKey(from: number, to: number): string {
  return `${from}>${to}`;
}
