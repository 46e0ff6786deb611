// A worker process's own small HTTP server: /livez, /readyz and /metrics only (ops.routes.ts).
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Logger } from "../lib/logger.ts";
import { opsRoutes, type OpsDeps } from "./routes/ops.routes.ts";
import { quietRequestLogs } from "./request-logging.ts";

export async function startOpsServer(
  host: string,
  port: number,
  deps: OpsDeps,
  logger: Logger,
): Promise<FastifyInstance | undefined> {
  if (port === 0) return undefined;
  const app = Fastify({
    loggerInstance: logger.child({ component: "ops" }) as FastifyBaseLogger,
    logController: quietRequestLogs(),
  });
  await app.register(async (scope) => opsRoutes(scope, deps));
  await app.listen({ host, port });
  return app;
}
