// HTTP plumbing: bounded bodies, JSON answers, and the error → status mapping of CONTRACTS.md
// (4xx and 503: not applied; 500, 504 and a dropped connection: outcome unknown).

import { NotLeaderError, RaftStoreError } from "../../errors.js";
import { InvalidRequestError, TooLargeError } from "../api.js";
import type { LeanRequest, LeanResponse } from "./lean-http.js";

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

const jsonType = { "content-type": "application/json" } as const;

export function sendJson(res: LeanResponse, status: number, body: unknown): void {
  res.send(status, jsonType, JSON.stringify(body));
}

export function sendError(res: LeanResponse, error: unknown): void {
  // A response goes out whole or not at all: one already sent stays as it is.
  if (res.sent) return;
  sendJson(res, statusFor(error), errorBody(error));
}

/** The request's body, refused (413) past `bytesMax`. */
export function bodyOf(req: LeanRequest, bytesMax: number): Buffer {
  if (req.body.length > bytesMax) {
    throw new TooLargeError(`body of ${req.body.length} bytes exceeds the limit of ${bytesMax}`);
  }
  return req.body;
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
