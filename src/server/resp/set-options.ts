// SET's options, parsed like Redis's parseExtendedStringArgumentsOrReply:
// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL].

import { int64Arg, word } from "./args.js";
import { CommandError, syntaxError } from "./errors.js";

export type SetExpiry =
  | { readonly kind: "none" }
  | { readonly kind: "keep" }
  /** Milliseconds from now (> 0). */
  | { readonly kind: "ttl"; readonly ms: number }
  /** Unix milliseconds (> 0). */
  | { readonly kind: "at"; readonly ms: number };

export interface SetOptions {
  readonly condition: "absent" | "present" | null;
  readonly get: boolean;
  readonly expiry: SetExpiry;
}

const unitMs: Readonly<Record<string, number>> = { ex: 1000, px: 1, exat: 1000, pxat: 1 };

/** Options from args[from] on; throws CommandError on a syntax error or bad expire time. */
export function parseSetOptions(
  args: readonly Buffer[],
  from: number,
  command: string,
): SetOptions {
  let condition: "absent" | "present" | null = null;
  let get = false;
  let expiry: SetExpiry = { kind: "none" };
  for (let i = from; i < args.length; i++) {
    const option = word(args[i] ?? Buffer.alloc(0));
    if ((option === "nx" || option === "xx") && condition === null) {
      condition = option === "nx" ? "absent" : "present";
    } else if (option === "get" && !get) {
      get = true;
    } else if (option === "keepttl" && expiry.kind === "none") {
      expiry = { kind: "keep" };
    } else if (option in unitMs && expiry.kind === "none" && i + 1 < args.length) {
      const ms = expireMs(args[++i] ?? Buffer.alloc(0), unitMs[option] ?? 1, command);
      expiry = option.endsWith("at") ? { kind: "at", ms } : { kind: "ttl", ms };
    } else {
      throw new CommandError(syntaxError);
    }
  }
  return { condition, get, expiry };
}

/** A positive time in milliseconds; Redis's "invalid expire time" when <= 0 or too large. */
export function expireMs(arg: Buffer, unit: number, command: string): number {
  const value = int64Arg(arg);
  const ms = value * BigInt(unit);
  if (value <= 0n || ms > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new CommandError(`ERR invalid expire time in '${command}' command`);
  }
  return Number(ms);
}
