// The HTTP app: ingest and the gateway routes (Kong's shared secret), and the admin API (admin or
// consumer key), each in its own encapsulated scope so body parsers and auth hooks do not leak.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Config } from "../config.ts";
import type { PrismaClient } from "../db/client.ts";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { apiKeyRoutes } from "./routes/api-keys.routes.ts";
import { billingRoutes } from "./routes/billing.routes.ts";
import { consumerRoutes } from "./routes/consumers.routes.ts";
import { deadLetterRoutes } from "./routes/dead-letters.routes.ts";
import { gatewayRoutes } from "./routes/gateway.routes.ts";
import { importRoutes } from "./routes/imports.routes.ts";
import { ingestRoutes } from "./routes/ingest.routes.ts";
import { invoiceRoutes } from "./routes/invoices.routes.ts";
import { opsRoutes } from "./routes/ops.routes.ts";
import { rateRoutes } from "./routes/rates.routes.ts";
import { priceBookRoutes } from "./routes/price-books.routes.ts";
import { usageRoutes } from "./routes/usage.routes.ts";
import { reportRoutes } from "./routes/reports.routes.ts";
import { budgetRoutes } from "./routes/budgets.routes.ts";
import { creditRoutes } from "./routes/credits.routes.ts";
import { webhookRoutes } from "./routes/webhooks.routes.ts";
import { dashboardRoutes } from "./routes/dashboard.routes.ts";
import { uiRoutes } from "./routes/ui.routes.ts";
import { PACKAGE_VERSION, registerOpenApi } from "./openapi.ts";
import { MetadataCache, publishMetadataChange } from "../authorize/metadata-cache.ts";
import { MeasurePool } from "../authorize/measure-pool.ts";
import { TdlCounter } from "../authorize/tdl-counter.ts";
import { BudgetGuard } from "../budgets/budget-guard.ts";
import { HoldLedger } from "../budgets/hold-ledger.ts";
import type { UsageProducer } from "../kafka/producer.ts";
import type { Logger } from "../lib/logger.ts";
import { authenticate } from "./principal.ts";
import { presentedSecret } from "./auth.ts";
import { RateLimiter, rateLimited } from "./rate-limit.ts";
import { startOpsServer } from "./ops-server.ts";
import { frameworkErrors, MAX_PARAM_LENGTH, registerErrorHandler } from "./error-handler.ts";
import { parseApiJson } from "./json-body.ts";
import { refuseControlCharactersInUrl } from "./url-guard.ts";
import { quietRequestLogs } from "./request-logging.ts";
import type { DependencyChecks } from "../ops/health.ts";
import { MeterProgress } from "../ops/meter-progress.ts";
import { deadLetterRefresher, invoiceRefresher, type Metrics } from "../ops/metrics.ts";

export type AppDeps = {
  config: Config;
  db: PrismaClient;
  producer: UsageProducer;
  logger: Logger;
  billingQueue: Queue;
  webhookQueue: Queue;
  redis: Redis;
  metrics: Metrics;
  checks: DependencyChecks;
  /** The gateway routes' clock (slot of the day, rate in force); tests fix it. */
  clock?: () => Date;
};

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: "http" }) as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    requestIdHeader: "x-request-id",
    // the client's address (rate limits on wrong keys) from X-Forwarded-For, only from these proxies
    trustProxy: deps.config.http.trustProxy.length > 0 ? deps.config.http.trustProxy : false,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors,
    // one line per request (below) instead of Fastify's two
    logController: quietRequestLogs(),
  });
  registerErrorHandler(app);
  await registerOpenApi(app, PACKAGE_VERSION, deps.config.env !== "production");
  app.addHook("onResponse", async (request, reply) => {
    // the path only: a query string can carry a credential (?apikey=…)
    request.log.info(
      {
        method: request.method,
        path: request.url.split("?")[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      "request",
    );
  });

  const { config, db, redis, logger } = deps;
  // the API reports on the meter's consumer group, wherever the meter runs
  const progress = new MeterProgress(deps.checks, config, deps.metrics);
  progress.start();
  app.addHook("onClose", async () => progress.stop());
  const ops = {
    checks: deps.checks,
    metrics: deps.metrics,
    required: ["postgres", "kafka"] as const,
    optional: ["redis"] as const,
    progress,
    refresh: [invoiceRefresher(deps.metrics, db), deadLetterRefresher(deps.metrics, db)],
    cacheMs: config.ops.cacheMs,
    metricsToken: config.ops.metricsToken,
  };
  // with METRICS_PORT, /metrics is served on that port only, for a scraper on an internal network
  await app.register(async (scope) => opsRoutes(scope, { ...ops, serveMetrics: config.ops.metricsPort === 0 }));
  const opsServer = await startOpsServer(config.http.host, config.ops.metricsPort, ops, logger);
  app.addHook("onClose", async () => opsServer?.close());
  const cache = new MetadataCache(db, { ttlMs: config.authorize.cacheTtlMs, redisPrefix: config.redis.prefix, logger });
  await cache.start(redis);
  app.addHook("onClose", () => cache.close());
  const counter = new TdlCounter(redis, db, config.redis.prefix, () =>
    deps.metrics.dependencyErrors.inc({ dependency: "redis" }),
  );
  const measurer = new MeasurePool({
    workers: config.authorize.countWorkers,
    budgetMs: config.authorize.countBudgetMs,
    defaultEncoding: config.metering.defaultEncoding,
  });
  await measurer.start();
  app.addHook("onClose", () => measurer.close());
  // this process drops its cache at once; the others when the notice reaches them through Redis
  const metadataChanged = async (consumerIds: string[]) => {
    cache.invalidate();
    await publishMetadataChange(redis, config.redis.prefix, consumerIds, logger);
  };

  await app.register(async (scope) => uiRoutes(scope));
  await app.register(async (scope) => ingestRoutes(scope, deps));
  const alerts = { db, webhookQueue: deps.webhookQueue, config, logger };
  const budgets = new BudgetGuard({
    db,
    ledger: new HoldLedger(redis, config.redis.prefix),
    config,
    alerts,
    logger,
    onRedisError: () => deps.metrics.dependencyErrors.inc({ dependency: "redis" }),
  });
  await app.register(async (scope) =>
    gatewayRoutes(scope, { config, db, cache, counter, measurer, budgets, now: deps.clock }),
  );
  await app.register(async (scope) => {
    scope.addHook("onRequest", refuseControlCharactersInUrl);
    scope.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) => {
      try {
        done(null, parseApiJson(body as string));
      } catch (err) {
        done(err as Error, undefined);
      }
    });
    const limiter = new RateLimiter(redis, config.redis.prefix);
    scope.addHook(
      "onRequest",
      rateLimited(authenticate(deps.config.adminApiKey, deps.db), limiter, config.rateLimits, presentedSecret),
    );
    await consumerRoutes(scope, { ...deps, metadataChanged });
    await rateRoutes(scope, { ...deps, metadataChanged });
    await priceBookRoutes(scope, { ...deps, metadataChanged });
    await apiKeyRoutes(scope, deps);
    await importRoutes(scope, { ...deps, metadataChanged });
    await usageRoutes(scope, deps);
    await invoiceRoutes(scope, deps);
    await billingRoutes(scope, deps);
    await deadLetterRoutes(scope, deps);
    await reportRoutes(scope, deps);
    await budgetRoutes(scope, { ...deps, metadataChanged });
    await creditRoutes(scope, { ...deps, metadataChanged });
    await webhookRoutes(scope, deps);
    await dashboardRoutes(scope, deps);
  });
  return app;
}
