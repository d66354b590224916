// The load generator behind `raft-store bench` and `npm run bench -- server`: N concurrent
// clients, each with one request outstanding, doing 256-byte puts, linearizable gets or a
// 90/10 mix over a key space, for a fixed time; latency of every operation recorded.

import { keyPath } from "./http-client.js";
import { RawHttpConnection } from "./raw-http.js";
import { RespClient, RespError } from "./resp-client.js";

export const loadOps = ["put", "get", "mixed"] as const;
export type LoadOp = (typeof loadOps)[number];
/** raft-store's HTTP or RESP API, or etcd's v3 JSON gateway (for side-by-side benchmarks). */
export type LoadApi = "http" | "resp" | "etcd";

export interface LoadOptions {
  readonly api: LoadApi;
  /** host:port of the API on each member; clients are spread over them round-robin. */
  readonly endpoints: readonly string[];
  readonly clients: number;
  readonly seconds: number;
  /** Seconds of the same load run first and not counted (a fresh server is slower at first). */
  readonly warmupSeconds?: number;
  /**
   * The warm-up also goes on until this many operations completed (within warmupSecondsMax):
   * a JIT compiles what ran often, so a 1-client case needs longer than a 256-client one.
   */
  readonly warmupOps?: number;
  /** The longest a warm-up by operations may take (default 30 s). */
  readonly warmupSecondsMax?: number;
  readonly op: LoadOp;
  readonly valueBytes: number;
  readonly keys: number;
  readonly token?: string | null;
  readonly onProgress?: (done: number, errors: number, elapsedSeconds: number) => void;
  /** Called as the counted run starts (after the warm-up and the clients' connections). */
  readonly onMeasureStart?: () => void;
}

export interface LoadResult {
  readonly ops: number;
  readonly errors: number;
  readonly seconds: number;
  readonly opsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly firstError: string | null;
}

type Runner = (op: "put" | "get", key: string) => Promise<void>;

function splitEndpoint(endpoint: string): [string, number] {
  const colon = endpoint.lastIndexOf(":");
  return [endpoint.slice(0, colon), Number(endpoint.slice(colon + 1))];
}

async function httpRunner(
  endpoint: string,
  value: string,
  token: string | null,
): Promise<[Runner, () => void]> {
  const [host, port] = splitEndpoint(endpoint);
  const client = new RawHttpConnection(
    host,
    port,
    token === null ? "" : `authorization: Bearer ${token}\r\n`,
  );
  const body = Buffer.from(value);
  const run: Runner = async (op, key) => {
    const response =
      op === "put"
        ? await client.request("PUT", keyPath(key), body)
        : await client.request("GET", keyPath(key));
    if (response.status !== 200 && !(op === "get" && response.status === 404)) {
      throw new Error(`HTTP ${response.status} ${response.body.toString("utf8").slice(0, 120)}`);
    }
  };
  return [run, () => client.close()];
}

/** etcd 3.4's gRPC gateway: POST /v3/kv/put and /v3/kv/range (linearizable) with base64. */
async function etcdRunner(endpoint: string, value: string): Promise<[Runner, () => void]> {
  const [host, port] = splitEndpoint(endpoint);
  const client = new RawHttpConnection(host, port);
  const value64 = Buffer.from(value).toString("base64");
  const run: Runner = async (op, key) => {
    const key64 = Buffer.from(key).toString("base64");
    const response =
      op === "put"
        ? await client.request("POST", "/v3/kv/put", `{"key":"${key64}","value":"${value64}"}`)
        : await client.request("POST", "/v3/kv/range", `{"key":"${key64}"}`);
    if (response.status !== 200) {
      throw new Error(`HTTP ${response.status} ${response.body.toString("utf8").slice(0, 120)}`);
    }
  };
  return [run, () => client.close()];
}

async function respRunner(
  endpoint: string,
  value: string,
  token: string | null,
): Promise<[Runner, () => void]> {
  const [host, port] = splitEndpoint(endpoint);
  const client = await RespClient.connect(host, port);
  if (token !== null) await client.call("AUTH", token);
  const run: Runner = async (op, key) => {
    const reply =
      op === "put" ? await client.call("SET", key, value) : await client.call("GET", key);
    if (reply instanceof RespError) throw reply;
  };
  return [run, () => client.close()];
}

export class Latencies {
  private values = new Float64Array(1 << 16);
  size = 0;

  add(ms: number): void {
    if (this.size === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.size++] = ms;
  }

  percentiles(): { p50Ms: number; p99Ms: number; maxMs: number } {
    if (this.size === 0) return { p50Ms: 0, p99Ms: 0, maxMs: 0 };
    const sorted = this.values.slice(0, this.size).sort();
    const at = (q: number): number =>
      sorted[Math.min(this.size - 1, Math.floor(q * this.size))] ?? 0;
    return { p50Ms: at(0.5), p99Ms: at(0.99), maxMs: sorted[this.size - 1] ?? 0 };
  }
}

/** Runs the load; resolves when every client has finished its last operation. */
export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  return runLoadWith(o);
}

async function runLoadWith(
  o: LoadOptions & { readonly untilOps?: { readonly ops: number; readonly secondsMax: number } },
): Promise<LoadResult> {
  const warmupSeconds = o.warmupSeconds ?? 0;
  const warmupOps = o.warmupOps ?? 0;
  if (warmupSeconds > 0 || warmupOps > 0) {
    const { onProgress: _ignored, onMeasureStart: _notYet, ...rest } = o;
    const cap = Math.max(warmupSeconds, o.warmupSecondsMax ?? 30);
    await runLoadWith({ ...rest, seconds: warmupSeconds, warmupSeconds: 0, warmupOps: 0,
      untilOps: { ops: warmupOps, secondsMax: cap } });
  }
  const value = "v".repeat(o.valueBytes);
  const make = o.api === "http" ? httpRunner : o.api === "etcd" ? etcdRunner : respRunner;
  const runners = await Promise.all(
    Array.from({ length: o.clients }, (_, i) =>
      make(o.endpoints[i % o.endpoints.length] ?? "", value, o.token ?? null),
    ),
  );
  const latencies = new Latencies();
  let errors = 0;
  let firstError: string | null = null;
  o.onMeasureStart?.();
  const started = performance.now();
  const deadline = started + o.seconds * 1000;
  const progress = setInterval(() => {
    o.onProgress?.(latencies.size, errors, (performance.now() - started) / 1000);
  }, 250);
  let seed = 0x9e3779b9;
  const random = (): number => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  // A warm-up also runs until enough operations completed, within its own limit.
  const opsWanted = o.untilOps?.ops ?? 0;
  const hardDeadline = started + (o.untilOps?.secondsMax ?? o.seconds) * 1000;
  const going = (): boolean => {
    const now = performance.now();
    return now < deadline || (latencies.size < opsWanted && now < hardDeadline);
  };
  await Promise.all(
    runners.map(async ([run]) => {
      while (going()) {
        const key = `key-${Math.floor(random() * o.keys)}`;
        const op = o.op === "mixed" ? (random() < 0.1 ? "put" : "get") : o.op;
        const t0 = performance.now();
        try {
          await run(op, key);
          latencies.add(performance.now() - t0);
        } catch (error) {
          errors++;
          firstError ??= (error as Error).message;
          await new Promise((resolve) => setTimeout(resolve, 5)); // no busy loop against a down server
        }
      }
    }),
  );
  clearInterval(progress);
  for (const [, close] of runners) close();
  const seconds = (performance.now() - started) / 1000;
  o.onProgress?.(latencies.size, errors, seconds);
  return {
    ops: latencies.size,
    errors,
    seconds,
    opsPerSec: latencies.size / seconds,
    ...latencies.percentiles(),
    firstError,
  };
}
