// The RESP front end's own errors. A ProtocolError ends the connection (as in Redis); a
// CommandError is one `-ERR ...`-style reply and the connection goes on.

import { RaftStoreError } from "../../errors.js";

/** The byte stream is not valid RESP, or a request is over a limit. Nothing was applied. */
export class ProtocolError extends RaftStoreError {
  override readonly code = "PROTOCOL_ERROR";
  constructor(detail: string) {
    super(`Protocol error: ${detail}`);
  }
}

/**
 * A command was refused before anything was applied (arity, syntax, a bad argument). `reply`
 * is the whole error line without the leading "-", e.g. "ERR syntax error".
 */
export class CommandError extends RaftStoreError {
  override readonly code = "COMMAND_ERROR";
  constructor(readonly reply: string) {
    super(reply);
  }
}

export const syntaxError = "ERR syntax error";
export const notIntegerError = "ERR value is not an integer or out of range";
export const noAuthError = "NOAUTH Authentication required.";
export const wrongPassError = "WRONGPASS invalid username-password pair or user is disabled.";

export function wrongArity(name: string): CommandError {
  return new CommandError(`ERR wrong number of arguments for '${name}' command`);
}
