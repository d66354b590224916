// The HTTP/JSON API (CONTRACTS.md): key-value routes, transactions, cluster administration,
// metrics and health, plus the internal route members forward requests through. Requests on a
// follower reach the leader through the Service; every error is JSON {error, code, leader?}.

import type { AddressInfo } from "node:net";
import type { Logger } from "../../logger.js";
import {
  InvalidRequestError,
  type PutRequest,
  UnauthorizedError,
  type WriteSession,
} from "../api.js";
import { forwardedHeader, internalCallPath } from "../forward.js";
import type { ServerMetrics } from "../metrics.js";
import type { Service } from "../service.js";
import {
  addMemberRequest,
  consistency,
  isObject,
  nonNegativeInteger,
  txnRequest,
  userKey,
  writeSession,
} from "../validate.js";
import {
  NotFoundError,
  bodyOf,
  parseJson,
  sendError,
  sendJson,
  statusFor,
  utf8,
} from "./http-util.js";
import { type LeanRequest, type LeanResponse, LeanHttpServer } from "./lean-http.js";

export interface HttpApiOptions {
  readonly service: Service;
  readonly metrics: ServerMetrics;
  readonly logger: Logger;
  readonly token: string | null;
  readonly tls: { cert: Buffer; key: Buffer; ca: Buffer } | null;
  /** Largest value a PUT may carry (the state machine's limit). */
  readonly valueBytesMax: number;
  /** Largest JSON body. */
  readonly jsonBytesMax: number;
  readonly health: () => { live: boolean; ready: boolean; detail: Record<string, unknown> };
}

type Params = URLSearchParams;

export class HttpApi {
  private readonly server: LeanHttpServer;

  constructor(private readonly o: HttpApiOptions) {
    const handler = (req: LeanRequest, res: LeanResponse): void => {
      this.handle(req, res).catch((error: unknown) => {
        if (statusFor(error) === 500)
          this.o.logger.error("http request failed", { error: String(error) });
        this.o.metrics.request("http", "error");
        sendError(res, error);
      });
    };
    const bodyBytesMax = Math.max(o.valueBytesMax, o.jsonBytesMax);
    this.server = new LeanHttpServer({ bodyBytesMax, idleTimeoutMs: 65_000, tls: o.tls }, handler);
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return this.server.listen(host, port);
  }

  close(): Promise<void> {
    return this.server.close();
  }

  private async handle(req: LeanRequest, res: LeanResponse): Promise<void> {
    // Split by hand: new URL() per request was a visible cost under load.
    const target = req.url;
    const mark = target.indexOf("?");
    const path = mark < 0 ? target : target.slice(0, mark);
    const params = new URLSearchParams(mark < 0 ? "" : target.slice(mark + 1));
    const method = req.method;
    if (path === "/health" || path === "/ready" || path === "/metrics")
      return this.probe(path, res);
    this.authorize(req);
    if (path.startsWith("/v1/kv/")) return this.key(method, rawKey(path), params, req, res);
    if (path === "/v1/kv" && method === "GET") return this.list(params, res);
    if (path === "/v1/txn" && method === "POST") {
      const body = parseJson(bodyOf(req, this.o.jsonBytesMax), "transaction");
      const txn = txnRequest(body);
      const session = sessionFrom(req);
      return this.ok(
        res,
        await this.o.service.txn(session === undefined ? txn : { ...txn, session }),
      );
    }
    if (path === internalCallPath && method === "POST") return this.internal(req, res);
    if (path.startsWith("/v1/cluster")) return this.cluster(method, path, req, res);
    throw new NotFoundError(`no route ${method} ${path}`);
  }

  private ok(res: LeanResponse, body: unknown): void {
    this.o.metrics.request("http", "ok");
    sendJson(res, 200, body);
  }

  private authorize(req: LeanRequest): void {
    if (this.o.token === null) return;
    if (req.headers.authorization !== `Bearer ${this.o.token}`) {
      throw new UnauthorizedError("missing or wrong bearer token");
    }
  }

  private async probe(path: string, res: LeanResponse): Promise<void> {
    if (path === "/metrics") {
      const text = await this.o.metrics.text();
      res.send(200, { "content-type": this.o.metrics.contentType }, text);
      return;
    }
    const health = this.o.health();
    const good = path === "/health" ? health.live : health.ready;
    sendJson(res, good ? 200 : 503, { status: good ? "ok" : "unavailable", ...health.detail });
  }

  private async key(
    method: string,
    key: string,
    params: Params,
    req: LeanRequest,
    res: LeanResponse,
  ): Promise<void> {
    const service = this.o.service;
    switch (method) {
      case "GET": {
        const read = await service.get([key], consistency(params.get("consistency")));
        const entry = read.entries[0] ?? null;
        if (entry === null) throw new NotFoundError(`key not found`);
        this.o.metrics.request("http", "ok");
        res.send(200, {
          "content-type": "application/octet-stream",
          "x-raft-index": read.index,
          "x-raft-create-index": entry.createIndex,
          "x-raft-mod-index": entry.modIndex,
          ...(entry.expiresAtMs === null ? {} : { "x-raft-expires-at": entry.expiresAtMs }),
        }, entry.value);
        return;
      }
      case "PUT": {
        const value = utf8(bodyOf(req, this.o.valueBytesMax), "value");
        const ttl = params.get("ttlMs") ?? params.get("ttl_ms");
        const ttlMs = ttl === null ? undefined : ttlFrom(ttl);
        const session = sessionFrom(req);
        const request: { -readonly [K in keyof PutRequest]: PutRequest[K] } = { key, value };
        if (ttlMs !== undefined) request.ttlMs = ttlMs;
        if (session !== undefined) request.session = session;
        const put = await service.put(request);
        return this.ok(res, { index: put.index, prevValue: put.prevValue });
      }
      case "DELETE": {
        const deleted = await service.delete([key], sessionFrom(req));
        return this.ok(res, { index: deleted.index, deleted: deleted.deleted === 1 });
      }
      default:
        throw new InvalidRequestError(`method ${method} is not allowed on /v1/kv/<key>`);
    }
  }

  private async list(params: Params, res: LeanResponse): Promise<void> {
    const limitText = params.get("limit") ?? "1000";
    const limit = Number(limitText);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 100_000) {
      throw new InvalidRequestError(`limit "${limitText}" must be an integer in [1, 100000]`);
    }
    const range = await this.o.service.range({
      prefix: params.get("prefix") ?? "",
      after: params.get("after"),
      limit,
      consistency: consistency(params.get("consistency")),
      keysOnly: params.get("keysOnly") === "true",
    });
    this.ok(res, range);
  }

  private async internal(req: LeanRequest, res: LeanResponse): Promise<void> {
    if (req.headers[forwardedHeader] !== "1") throw new InvalidRequestError("internal route");
    const body = parseJson(bodyOf(req, this.o.jsonBytesMax), "call");
    if (!isObject(body)) throw new InvalidRequestError("a call must be a JSON object");
    const result = await this.o.service.callLocal(body.method, body.args);
    sendJson(res, 200, result ?? null);
  }

  private async cluster(
    method: string,
    path: string,
    req: LeanRequest,
    res: LeanResponse,
  ): Promise<void> {
    const service = this.o.service;
    const json = (): unknown => {
      const body = bodyOf(req, this.o.jsonBytesMax);
      return body.length === 0 ? {} : parseJson(body, "body");
    };
    if (path === "/v1/cluster" && method === "GET") return this.ok(res, await service.cluster());
    if (path === "/v1/cluster/members" && method === "POST") {
      return this.ok(res, await service.addMember(addMemberRequest(json())));
    }
    const member = /^\/v1\/cluster\/members\/([^/]+)(\/promote)?$/.exec(path);
    if (member !== null && member[2] === undefined && method === "DELETE") {
      return this.ok(res, await service.removeMember(decode(member[1] ?? "")));
    }
    if (member !== null && member[2] !== undefined && method === "POST") {
      return this.ok(res, await service.promote(decode(member[1] ?? "")));
    }
    if (path === "/v1/cluster/leader" && method === "POST") {
      const body = json();
      const id =
        isObject(body) && body.id !== undefined && body.id !== null ? String(body.id) : undefined;
      return this.ok(res, await service.transferLeader(id));
    }
    if (path === "/v1/cluster/snapshot" && method === "POST")
      return this.ok(res, await service.snapshot());
    throw new NotFoundError(`no route ${method} ${path}`);
  }
}

/** An exactly-once session from the x-raft-client-id and x-raft-sequence headers. */
function sessionFrom(req: LeanRequest): WriteSession | undefined {
  const clientId = req.headers["x-raft-client-id"];
  const sequence = req.headers["x-raft-sequence"];
  if (clientId === undefined && sequence === undefined) return undefined;
  if (typeof clientId !== "string" || typeof sequence !== "string") {
    throw new InvalidRequestError("x-raft-client-id and x-raft-sequence go together, once each");
  }
  return writeSession({ clientId, sequence: Number(sequence) });
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new InvalidRequestError(`"${text}" is not valid percent-encoding`);
  }
}

function rawKey(path: string): string {
  return userKey(decode(path.slice("/v1/kv/".length)));
}

function ttlFrom(text: string): number {
  const ttl = nonNegativeInteger(Number(text), "ttlMs");
  if (ttl === 0) throw new InvalidRequestError("ttlMs must be positive");
  return ttl;
}
