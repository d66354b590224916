// Forwarding between members: a follower hands a client's request to the leader over the
// leader's HTTP API (POST /v1/internal/call, JSON {method, args}) on kept-alive connections, and
// rebuilds the leader's typed error from its JSON answer, so that a client sees the same
// response whichever member it asked. A request that may have reached the leader but got no
// answer has an unknown outcome (TimeoutError), never "not applied".

import http from "node:http";
import https from "node:https";
import {
  NotLeaderError,
  ProposalDroppedError,
  type RaftStoreError,
  StoppedError,
  TimeoutError,
  TransferRejectedError,
} from "../errors.js";
import { nodeId } from "../core/types.js";
import {
  InvalidRequestError,
  OperationError,
  SessionError,
  TooLargeError,
  UnauthorizedError,
  UnavailableError,
} from "./api.js";
import type { TlsFiles } from "./config.js";
import { readFileSync } from "node:fs";

export const internalCallPath = "/v1/internal/call";
/** Set on forwarded requests: the leader answers them itself and never forwards again. */
export const forwardedHeader = "x-raft-store-forwarded";

export interface ErrorBody {
  readonly error: string;
  readonly code: string;
  readonly leader?: string;
}

/** Rebuilds the error a member answered with (its code decides the class, and so the status). */
export function errorFromBody(status: number, body: ErrorBody): RaftStoreError {
  const message = body.error;
  switch (body.code) {
    case "NOT_LEADER":
      return new NotLeaderError(body.leader === undefined ? null : nodeId(Number(body.leader)));
    case "UNAVAILABLE":
      return new UnavailableError(message);
    case "PROPOSAL_DROPPED":
      return new ProposalDroppedError(message);
    case "TRANSFER_REJECTED":
      return new TransferRejectedError(message);
    case "NOT_INTEGER":
    case "OVERFLOW":
      return new OperationError(body.code, message);
    case "SESSION_EXPIRED":
    case "STALE_SEQUENCE":
      return new SessionError(body.code, message);
    case "UNAUTHORIZED":
      return new UnauthorizedError(message);
    case "STOPPED":
      return new StoppedError(message);
    default:
      if (status === 413) return new TooLargeError(message);
      if (status >= 400 && status < 500) return new InvalidRequestError(message);
      if (status === 503) return new UnavailableError(message);
      return new TimeoutError(
        `the leader answered ${status} ${body.code}: ${message} (outcome unknown)`,
      );
  }
}

export interface ForwarderOptions {
  readonly token: string | null;
  readonly tls: TlsFiles | null;
  readonly timeoutMs: number;
}

export class Forwarder {
  private readonly agent: http.Agent;
  private readonly scheme: "http" | "https";

  constructor(private readonly o: ForwarderOptions) {
    const common = { keepAlive: true, maxSockets: 512, maxFreeSockets: 256 };
    if (o.tls === null) {
      this.agent = new http.Agent(common);
      this.scheme = "http";
    } else {
      this.agent = new https.Agent({
        ...common,
        ca: readFileSync(o.tls.ca),
        cert: readFileSync(o.tls.cert),
        key: readFileSync(o.tls.key),
      });
      this.scheme = "https";
    }
  }

  close(): void {
    this.agent.destroy();
  }

  /** Calls `method` on the member at `address` (its HTTP host:port). */
  call<T>(address: string, method: string, args: readonly unknown[]): Promise<T> {
    const body = Buffer.from(JSON.stringify({ method, args }));
    const [host, port] = splitAddress(address);
    const headers: http.OutgoingHttpHeaders = {
      "content-type": "application/json",
      "content-length": body.length,
      [forwardedHeader]: "1",
    };
    if (this.o.token !== null) headers.authorization = `Bearer ${this.o.token}`;
    const send = this.scheme === "https" ? https.request : http.request;
    return new Promise<T>((resolve, reject) => {
      let sent = false;
      const request = send(
        {
          host,
          port,
          method: "POST",
          path: internalCallPath,
          agent: this.agent,
          headers,
          timeout: this.o.timeoutMs,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("error", (error) => reject(lost(address, error)));
          response.on("end", () => {
            try {
              resolve(decodeAnswer<T>(response.statusCode ?? 0, Buffer.concat(chunks)));
            } catch (error) {
              reject(error);
            }
          });
        },
      );
      request.on("timeout", () =>
        request.destroy(new Error(`no answer in ${this.o.timeoutMs} ms`)),
      );
      request.on("finish", () => {
        sent = true;
      });
      request.on("error", (error: NodeJS.ErrnoException) => {
        // Refused or unreachable before anything was written: the leader never saw it.
        if (!sent || error.code === "ECONNREFUSED") {
          reject(new UnavailableError(`leader at ${address} unreachable: ${error.message}`));
        } else {
          reject(lost(address, error));
        }
      });
      request.end(body);
    });
  }
}

function lost(address: string, error: Error): TimeoutError {
  return new TimeoutError(
    `connection to the leader at ${address} lost: ${error.message} (outcome unknown)`,
  );
}

function decodeAnswer<T>(status: number, bytes: Buffer): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new TimeoutError(
      `the leader answered ${status} with a body that is not JSON (outcome unknown)`,
    );
  }
  if (status === 200) return parsed as T;
  const body = parsed as Partial<ErrorBody>;
  if (typeof body.error !== "string" || typeof body.code !== "string") {
    throw new TimeoutError(`the leader answered ${status} without an error body (outcome unknown)`);
  }
  throw errorFromBody(status, body as ErrorBody);
}

function splitAddress(address: string): [string, number] {
  const colon = address.lastIndexOf(":");
  return [address.slice(0, colon).replace(/^\[|\]$/g, ""), Number(address.slice(colon + 1))];
}
