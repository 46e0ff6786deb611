import { pino, type Logger } from "pino";

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

export function createLogger(level: string, component?: string): Logger {
  const root = pino({ level, redact: { paths: REDACT, censor: "[REDACTED]" }, base: { service: "tokenmeter" } });
  return component ? root.child({ component }) : root;
}
