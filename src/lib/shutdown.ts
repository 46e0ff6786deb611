import type { Logger } from "./logger.ts";

/** On SIGTERM/SIGINT, runs the closers in order (stop taking work first), then exits. */
export function onShutdown(logger: Logger, closers: Array<() => Promise<unknown>>): void {
  let closing = false;
  const close = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, "shutting down");
    for (const c of closers) await c().catch((err: unknown) => logger.error({ err }, "error while shutting down"));
    process.exit(0);
  };
  process.once("SIGTERM", () => void close("SIGTERM"));
  process.once("SIGINT", () => void close("SIGINT"));
}
