// Replies as plain data. Handlers return a Reply; the encoder turns it into RESP2 or RESP3
// bytes for the connection's protocol, so no handler needs to know which one is in use.

export type RespProtocol = 2 | 3;

export type Reply =
  | { readonly kind: "simple"; readonly value: string }
  | { readonly kind: "error"; readonly message: string }
  | { readonly kind: "integer"; readonly value: bigint | number }
  | { readonly kind: "bulk"; readonly value: Uint8Array | string }
  /** RESP2 `$-1`, RESP3 `_`. */
  | { readonly kind: "null" }
  /** RESP2 `*-1`, RESP3 `_`. */
  | { readonly kind: "nullArray" }
  | { readonly kind: "array"; readonly items: readonly Reply[] }
  /** RESP3 `%`; RESP2 a flat array of key, value, key, value... */
  | { readonly kind: "map"; readonly entries: readonly (readonly [Reply, Reply])[] };

export const ok: Reply = { kind: "simple", value: "OK" };
export const nullReply: Reply = { kind: "null" };
export const nullArray: Reply = { kind: "nullArray" };

export function simple(value: string): Reply {
  return { kind: "simple", value };
}

/** `message` is the line without "-", starting with its code: "ERR ...", "TRYAGAIN ...". */
export function errorReply(message: string): Reply {
  return { kind: "error", message };
}

export function integer(value: bigint | number): Reply {
  return { kind: "integer", value };
}

export function bulk(value: Uint8Array | string): Reply {
  return { kind: "bulk", value };
}

export function bulkOrNull(value: string | null | undefined): Reply {
  return value === null || value === undefined ? nullReply : bulk(value);
}

export function array(items: readonly Reply[]): Reply {
  return { kind: "array", items };
}

/** A map with text keys, in the order given. */
export function textMap(fields: Readonly<Record<string, Reply>>): Reply {
  return { kind: "map", entries: Object.entries(fields).map(([k, v]) => [bulk(k), v] as const) };
}
