// The logging port. An embedding application plugs in its own logger; the library default is
// silent so that it never writes to stdout or stderr on its own. The server uses jsonLogger.

export type LogFields = Readonly<Record<string, string | number | boolean | null>>;

export interface Logger {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
}

export const silentLogger: Logger = {
  error: () => {},
  warn: () => {},
  info: () => {},
  debug: () => {},
};

const levels = ["error", "warn", "info", "debug"] as const;
export type LogLevel = (typeof levels)[number];

/** One JSON object per line on stderr, at `level` and above. */
export function jsonLogger(level: LogLevel = "info", base: LogFields = {}): Logger {
  const rank = levels.indexOf(level);
  const write = (at: LogLevel) => (message: string, fields: LogFields = {}): void => {
    if (levels.indexOf(at) > rank) return;
    const line = { time: new Date().toISOString(), level: at, message, ...base, ...fields };
    process.stderr.write(`${JSON.stringify(line)}\n`);
  };
  return { error: write("error"), warn: write("warn"), info: write("info"), debug: write("debug") };
}
