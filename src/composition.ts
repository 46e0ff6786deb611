// The API's composition root: every long-lived part (caches, pools, ledgers, progress, services)
// is built here once at start-up and handed to the routes as narrow dependencies. The routes
// build nothing; the app only registers them (src/http/app.ts).
import type { Queue } from "bullmq";
import type { FastifyInstance } from "fastify";
import type { Redis } from "ioredis";
import { WebhookEndpoints } from "./alerts/webhook-endpoints.ts";
import { MeasurePool } from "./authorize/measure-pool.ts";
import { MetadataCache } from "./authorize/metadata-cache.ts";
import { MetadataChanges } from "./authorize/metadata-changes.ts";
import { TdlCounter } from "./authorize/tdl-counter.ts";
import { BillingRuns } from "./billing/billing-runs.ts";
import { Invoices } from "./billing/invoices.ts";
import { BudgetGuard } from "./budgets/budget-guard.ts";
import { Budgets } from "./budgets/budgets.ts";
import { HoldLedger } from "./budgets/hold-ledger.ts";
import type { Config } from "./config.ts";
import { ApiKeys } from "./consumers/api-keys.ts";
import { Consumers } from "./consumers/consumers.ts";
import { Credits } from "./credits/credits.ts";
import { DeadLetters } from "./dead-letters/dead-letters.ts";
import type { PrismaClient } from "./db/client.ts";
import { buildApp } from "./http/app.ts";
import { RateLimiter } from "./http/rate-limit.ts";
import type { UsageProducer } from "./kafka/producer.ts";
import type { Logger } from "./lib/logger.ts";
import type { DependencyChecks } from "./ops/health.ts";
import { MeterProgress } from "./ops/meter-progress.ts";
import type { Metrics } from "./ops/metrics.ts";
import { Prices } from "./price-books/prices.ts";
import { Reports } from "./reports/reports.ts";
import { Usage } from "./usage/usage.ts";

/** The connections an API process opened (src/bootstrap.ts), its settings and logger. */
export type ApiDeps = {
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

export type ApiParts = Awaited<ReturnType<typeof composeApi>>;

/** Builds and starts every part the API's routes use; `close()` stops them. */
async function composeApi(deps: ApiDeps) {
  const { config, db, redis, logger, metrics } = deps;
  const redisDown = () => metrics.dependencyErrors.inc({ dependency: "redis" });
  // the API reports on the meter's consumer group, wherever the meter runs
  const progress = new MeterProgress(deps.checks, config, metrics);
  progress.start();
  const cache = new MetadataCache(db, { ttlMs: config.authorize.cacheTtlMs, redisPrefix: config.redis.prefix, logger });
  await cache.start(redis);
  const measurer = new MeasurePool({
    workers: config.authorize.countWorkers,
    budgetMs: config.authorize.countBudgetMs,
    defaultEncoding: config.metering.defaultEncoding,
  });
  await measurer.start();
  const holds = new HoldLedger(redis, config.redis.prefix);
  const changes = new MetadataChanges(redis, config.redis.prefix, logger, cache);
  const alerts = { db, webhookQueue: deps.webhookQueue, config, logger };
  const invoices = new Invoices(db, config);
  const usage = new Usage(db, holds, config);
  const parts = {
    config,
    logger,
    metrics,
    checks: deps.checks,
    producer: deps.producer,
    clock: deps.clock,
    progress,
    limiter: new RateLimiter(redis, config.redis.prefix),
    gateway: {
      cache,
      counter: new TdlCounter(redis, db, config.redis.prefix, redisDown),
      measurer,
      budgets: new BudgetGuard({ db, ledger: holds, config, alerts, logger, onRedisError: redisDown }),
    },
    keys: new ApiKeys(db),
    consumers: new Consumers(db, config.metering, changes),
    prices: new Prices(db, changes),
    budgets: new Budgets(db, holds, config, changes),
    credits: new Credits(db, holds, config, changes, logger),
    usage,
    invoices,
    runs: new BillingRuns(deps.billingQueue, config, invoices),
    reports: new Reports(db, config, invoices),
    deadLetters: new DeadLetters(db, { config, producer: deps.producer, metrics }),
    webhooks: new WebhookEndpoints(db, config, alerts),
  };
  const close = async () => {
    progress.stop();
    await cache.close();
    await measurer.close();
  };
  return { ...parts, close };
}

/** The API over freshly composed parts, which close with it. */
export async function startApi(deps: ApiDeps): Promise<FastifyInstance> {
  const parts = await composeApi(deps);
  const app = await buildApp(parts);
  app.addHook("onClose", parts.close);
  return app;
}
