// Which errors come from what a peer sent (and so close its connection) as opposed to bugs
// (which propagate and stop the process).

import { CodecError, FrameTooLargeError } from "../errors.js";

export function isPeerInputError(error: unknown): error is CodecError | FrameTooLargeError {
  return error instanceof CodecError || error instanceof FrameTooLargeError;
}

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === "string" ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}
