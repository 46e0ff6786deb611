import { pino, type DestinationStream, type Logger } from "pino";

export type { Logger };

// Paths that may carry credentials; pino replaces them before a line is written.
const REDACT = [
  "req.headers.authorization",
  "req.headers.apikey",
  "req.headers['x-api-key']",
  "req.headers['api-key']",
  "req.headers.cookie",
  "headers.authorization",
  "*.secret",
  "*.password",
];

/** The process's root logger (stdout unless a destination is given, as tests do to read the lines). */
export function createLogger(level: string, component?: string, destination?: DestinationStream): Logger {
  const options = { level, redact: { paths: REDACT, censor: "[REDACTED]" }, base: { service: "tokenmeter" } };
  const root = destination ? pino(options, destination) : pino(options);
  return component ? root.child({ component }) : root;
}

/** Where a part that can only warn reports (a logger, or a command's stderr). */
export type Warnings = { warn(obj: object, msg: string): void };
