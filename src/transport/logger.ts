// The transport logs through the project's logger port (src/logger.ts); it only needs these levels.

import type { Logger } from "../logger.js";

export type { LogFields } from "../logger.js";
export { silentLogger } from "../logger.js";

export type TransportLogger = Pick<Logger, "warn" | "info" | "debug">;
