// The logger port of the transport. The embedding application plugs in its own logger; the
// default is silent so that a library never writes to stdout on its own.

export type LogFields = Readonly<Record<string, string | number | boolean | null>>;

export interface TransportLogger {
  /** Something went wrong with a peer or a connection; the transport carried on. */
  warn(message: string, fields?: LogFields): void;
  /** A notable state change: a connection established, a listener started. */
  info(message: string, fields?: LogFields): void;
  /** Repetitive detail, such as each failed dial while a peer is down. */
  debug(message: string, fields?: LogFields): void;
}

export const silentLogger: TransportLogger = {
  warn: () => {},
  info: () => {},
  debug: () => {},
};
