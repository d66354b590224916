// Password checks for AUTH and HELLO ... AUTH. The token is compared through SHA-256 digests
// with timingSafeEqual, so the time taken says nothing about how much of it was right.

import { createHash, timingSafeEqual } from "node:crypto";

function digest(bytes: Uint8Array | string): Buffer {
  return createHash("sha256").update(bytes).digest();
}

/** True when `password` is the token (the username is not checked: there are no users). */
export function passwordMatches(token: string, password: Uint8Array): boolean {
  return timingSafeEqual(digest(token), digest(password));
}
