// The server's structured logs: pino (fast JSON lines, levels, a standard format that log
// shippers read) behind the library's Logger port.

import pino from "pino";
import type { LogFields, LogLevel, Logger } from "../logger.js";

/** JSON lines on `fd` (default stderr) at `level` and above, with `base` on every line. */
export function pinoLogger(level: LogLevel, base: LogFields = {}, fd = 2): Logger {
  const log = pino({ level, base: { ...base } }, pino.destination({ fd, sync: false }));
  return {
    error: (message, fields = {}) => log.error(fields, message),
    warn: (message, fields = {}) => log.warn(fields, message),
    info: (message, fields = {}) => log.info(fields, message),
    debug: (message, fields = {}) => log.debug(fields, message),
  };
}
