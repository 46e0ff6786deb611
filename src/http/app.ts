// The HTTP app: ingest and the gateway routes (Kong's shared secret), and the admin API (admin or
// consumer key), each in its own encapsulated scope so body parsers and auth hooks do not leak.
// Every part the routes use is built by the composition root (src/composition.ts).
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { ApiParts } from "../composition.ts";
import { deadLetterRefresher, invoiceRefresher } from "../ops/metrics.ts";
import { presentedSecret } from "./auth.ts";
import { frameworkErrors, MAX_PARAM_LENGTH, registerErrorHandler } from "./error-handler.ts";
import { parseApiJson } from "./json-body.ts";
import { PACKAGE_VERSION, registerOpenApi } from "./openapi.ts";
import { startOpsServer } from "./ops-server.ts";
import { authenticate } from "./principal.ts";
import { rateLimited } from "./rate-limit.ts";
import { quietRequestLogs } from "./request-logging.ts";
import { apiKeyRoutes } from "./routes/api-keys.routes.ts";
import { billingRoutes } from "./routes/billing.routes.ts";
import { budgetRoutes } from "./routes/budgets.routes.ts";
import { consumerRoutes } from "./routes/consumers.routes.ts";
import { creditRoutes } from "./routes/credits.routes.ts";
import { dashboardRoutes } from "./routes/dashboard.routes.ts";
import { deadLetterRoutes } from "./routes/dead-letters.routes.ts";
import { gatewayRoutes } from "./routes/gateway.routes.ts";
import { importRoutes } from "./routes/imports.routes.ts";
import { ingestRoutes } from "./routes/ingest.routes.ts";
import { invoiceRoutes } from "./routes/invoices.routes.ts";
import { opsRoutes } from "./routes/ops.routes.ts";
import { priceBookRoutes } from "./routes/price-books.routes.ts";
import { rateRoutes } from "./routes/rates.routes.ts";
import { reportRoutes } from "./routes/reports.routes.ts";
import { uiRoutes } from "./routes/ui.routes.ts";
import { usageRoutes } from "./routes/usage.routes.ts";
import { webhookRoutes } from "./routes/webhooks.routes.ts";
import { refuseControlCharactersInUrl } from "./url-guard.ts";

export async function buildApp(parts: ApiParts): Promise<FastifyInstance> {
  const { config, logger } = parts;
  const app = Fastify({
    loggerInstance: logger.child({ component: "http" }) as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    requestIdHeader: "x-request-id",
    // the client's address (rate limits on wrong keys) from X-Forwarded-For, only from these proxies
    trustProxy: config.http.trustProxy.length > 0 ? config.http.trustProxy : false,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors,
    // one line per request (below) instead of Fastify's two
    logController: quietRequestLogs(),
  });
  registerErrorHandler(app);
  await registerOpenApi(app, PACKAGE_VERSION, config.env !== "production");
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

  const ops = {
    checks: parts.checks,
    metrics: parts.metrics,
    required: ["postgres", "kafka"] as const,
    optional: ["redis"] as const,
    progress: parts.progress,
    refresh: [invoiceRefresher(parts.metrics, parts.invoices), deadLetterRefresher(parts.metrics, parts.deadLetters)],
    cacheMs: config.ops.cacheMs,
    metricsToken: config.ops.metricsToken,
  };
  // with METRICS_PORT, /metrics is served on that port only, for a scraper on an internal network
  await app.register(async (scope) => opsRoutes(scope, { ...ops, serveMetrics: config.ops.metricsPort === 0 }));
  const opsServer = await startOpsServer(config.http.host, config.ops.metricsPort, ops, logger);
  app.addHook("onClose", async () => opsServer?.close());

  await app.register(async (scope) => uiRoutes(scope));
  await app.register(async (scope) => ingestRoutes(scope, parts));
  await app.register(async (scope) =>
    gatewayRoutes(scope, { config, ...parts.gateway, keys: parts.keys, usage: parts.usage, now: parts.clock }),
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
    scope.addHook(
      "onRequest",
      rateLimited(authenticate(config.adminApiKey, parts.keys), parts.limiter, config.rateLimits, presentedSecret),
    );
    await consumerRoutes(scope, parts);
    await rateRoutes(scope, parts);
    await priceBookRoutes(scope, parts);
    await apiKeyRoutes(scope, parts);
    await importRoutes(scope, parts);
    await usageRoutes(scope, parts);
    await invoiceRoutes(scope, parts);
    await billingRoutes(scope, parts);
    await deadLetterRoutes(scope, parts);
    await reportRoutes(scope, parts);
    await budgetRoutes(scope, parts);
    await creditRoutes(scope, parts);
    await webhookRoutes(scope, parts);
    await dashboardRoutes(scope, parts);
  });
  return app;
}
