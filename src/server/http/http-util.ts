// HTTP plumbing: bounded bodies, JSON answers, and the error → status mapping of CONTRACTS.md
// (4xx and 503: not applied; 500, 504 and a dropped connection: outcome unknown).

import type { IncomingMessage, ServerResponse } from "node:http";
import { NotLeaderError, RaftStoreError } from "../../errors.js";
import { TooLargeError } from "../api.js";
import { InvalidRequestError } from "../api.js";

/** Codes of errors that mean the request was malformed or over a limit. */
const badRequestCodes = new Set([
  "INVALID_REQUEST",
  "INVALID_COMMAND",
  "INVALID_READ",
  "BAD_CONFIG",
]);
const tooLargeCodes = new Set([
  "TOO_LARGE",
  "KEY_TOO_LARGE",
  "VALUE_TOO_LARGE",
  "TOO_MANY_TXN_OPS",
]);
const notAppliedCodes = new Set(["NOT_LEADER", "UNAVAILABLE", "PROPOSAL_DROPPED"]);
const conflictCodes = new Set([
  "NOT_INTEGER",
  "OVERFLOW",
  "TRANSFER_REJECTED",
  "BAD_CONF_CHANGE",
  "SESSION_EXPIRED",
  "STALE_SEQUENCE",
]);

export function statusFor(error: unknown): number {
  if (!(error instanceof RaftStoreError)) return 500;
  const code = error.code;
  if (badRequestCodes.has(code)) return 400;
  if (tooLargeCodes.has(code)) return 413;
  if (code === "UNAUTHORIZED") return 401;
  if (code === "NOT_FOUND") return 404;
  if (notAppliedCodes.has(code)) return 503;
  if (conflictCodes.has(code)) return 409;
  if (code === "TIMEOUT") return 504;
  return 500;
}

export function errorBody(error: unknown): { error: string; code: string; leader?: string } {
  if (!(error instanceof RaftStoreError)) return { error: "internal error", code: "INTERNAL" };
  const body: { error: string; code: string; leader?: string } = {
    error: error.message,
    code: error.code,
  };
  if (error instanceof NotLeaderError && error.leaderId !== null)
    body.leader = String(error.leaderId);
  return body;
}

export class NotFoundError extends RaftStoreError {
  override readonly code = "NOT_FOUND";
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const bytes = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { "content-type": "application/json", "content-length": bytes.length });
  res.end(bytes);
}

export function sendError(res: ServerResponse, error: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, statusFor(error), errorBody(error));
}

/** Reads the whole body, refusing more than `bytesMax` (413) before buffering it. */
export function readBody(req: IncomingMessage, bytesMax: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (declared > bytesMax) {
    return Promise.reject(
      new TooLargeError(`body of ${declared} bytes exceeds the limit of ${bytesMax}`),
    );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > bytesMax) {
        reject(new TooLargeError(`body exceeds the limit of ${bytesMax} bytes`));
        req.removeAllListeners("data");
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks, size)));
    req.on("error", reject);
  });
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

export function utf8(bytes: Uint8Array, what: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new InvalidRequestError(`${what} is not valid UTF-8`);
  }
}

export function parseJson(bytes: Uint8Array, what: string): unknown {
  const text = utf8(bytes, what);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidRequestError(`${what} is not valid JSON: ${(error as Error).message}`);
  }
}
