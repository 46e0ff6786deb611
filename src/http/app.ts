// The HTTP app: ingest (Kong's shared secret) and the admin API (admin key), each in its own
// encapsulated scope so their body parsers and auth hooks do not leak into each other.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Config } from "../config.ts";
import type { PrismaClient } from "../db/client.ts";
import { consumerRoutes } from "../api/consumers.routes.ts";
import { usageRoutes } from "../api/usage.routes.ts";
import { invoiceRoutes } from "../api/invoices.routes.ts";
import type { Queue } from "bullmq";
import { ingestRoutes } from "../ingest/routes.ts";
import type { UsageProducer } from "../kafka/producer.ts";
import type { Logger } from "../lib/logger.ts";
import { authenticate } from "./principal.ts";
import { registerErrorHandler } from "./error-handler.ts";

export type AppDeps = { config: Config; db: PrismaClient; producer: UsageProducer; logger: Logger; billingQueue: Queue };

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
    scope.addHook("onRequest", authenticate(deps.config.adminApiKey, deps.db));
    await consumerRoutes(scope, deps);
    await usageRoutes(scope, deps);
    await invoiceRoutes(scope, deps);
  });
  return app;
}
