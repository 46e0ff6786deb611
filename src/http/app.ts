// The HTTP app: ingest (Kong's shared secret) and the admin API (admin key), each in its own
// encapsulated scope so their body parsers and auth hooks do not leak into each other.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Config } from "../config.ts";
import type { PrismaClient } from "../db/client.ts";
import { consumerRoutes } from "../api/consumers.routes.ts";
import { usageRoutes } from "../api/usage.routes.ts";
import { ingestRoutes } from "../ingest/routes.ts";
import type { UsageProducer } from "../kafka/producer.ts";
import type { Logger } from "../lib/logger.ts";
import { requireAdminKey } from "./auth.ts";
import { registerErrorHandler } from "./error-handler.ts";

export type AppDeps = { config: Config; db: PrismaClient; producer: UsageProducer; logger: Logger };

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: "http" }) as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    requestIdHeader: "x-request-id",
  });
  registerErrorHandler(app);

  app.get("/healthz", async () => ({ status: "ok" }));

  await app.register(async (scope) => ingestRoutes(scope, deps));
  await app.register(async (scope) => {
    scope.addHook("onRequest", requireAdminKey(deps.config.adminApiKey));
    await consumerRoutes(scope, deps);
    await usageRoutes(scope, deps);
  });
  return app;
}
