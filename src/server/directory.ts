// The member directory: each server's client endpoints (HTTP and RESP addresses), replicated
// through the key-value state under reserved keys ("\0node/<id>"), so that any member can find
// the leader's HTTP address to forward to, and GET /v1/cluster can list every endpoint. Each
// server registers itself once a leader is known, and again whenever its entry differs. Beside
// it, "\0incarnation/<id>" holds the incarnation of the member's data that registered last
// (incarnation.ts).

import type { KvStore } from "../kv/index.js";
import { reservedKeyPrefix } from "./validate.js";

export interface Endpoints {
  readonly http: string | null;
  readonly resp: string | null;
}

export const directoryPrefix = `${reservedKeyPrefix}node/`;

export function directoryKey(id: number | string): string {
  return `${directoryPrefix}${id}`;
}

export const incarnationPrefix = `${reservedKeyPrefix}incarnation/`;

export function incarnationKey(id: number | string): string {
  return `${incarnationPrefix}${id}`;
}

/**
 * What a registration did: `registered`, or not because the id is recorded under another
 * incarnation (`recorded`) that this one may not replace; neither means a race to retry.
 */
export interface RegisterOutcome {
  readonly registered: boolean;
  readonly recorded: string | null;
}

export function encodeEndpoints(endpoints: Endpoints): string {
  return JSON.stringify({ http: endpoints.http, resp: endpoints.resp });
}

/** What the state says about `id`'s endpoints (a stale local read: a hint, not a promise). */
export function lookupEndpoints(store: KvStore, id: number | string): Endpoints | null {
  const record = store.get(directoryKey(id));
  if (record === undefined) return null;
  try {
    const parsed = JSON.parse(record.value) as Partial<Record<keyof Endpoints, unknown>>;
    const http = typeof parsed.http === "string" ? parsed.http : null;
    const resp = typeof parsed.resp === "string" ? parsed.resp : null;
    return { http, resp };
  } catch {
    return null;
  }
}
