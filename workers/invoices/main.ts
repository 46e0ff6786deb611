// Invoice worker process only: `tsx workers/invoices/main.ts`.
import { loadConfig } from "../../src/config.ts";
import { createPrisma } from "../../src/db/client.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { onShutdown } from "../../src/lib/shutdown.ts";
import { startOpsServer } from "../../src/http/ops-server.ts";
import { redisConnection } from "../../src/jobs/queues.ts";
import { DependencyChecks } from "../../src/ops/health.ts";
import { createMetrics, invoiceRefresher } from "../../src/ops/metrics.ts";
import { startInvoiceWorker } from "./worker.ts";
import { startWebhookWorker } from "../webhooks/worker.ts";
import { Invoices } from "../../src/billing/invoices.ts";

const config = loadConfig();
const logger = createLogger(config.logLevel, "invoices");
const db = createPrisma(config.databaseUrl);
const redis = redisConnection(config, "client");
const metrics = createMetrics();
const checks = new DependencyChecks({ db, redis });
const worker = await startInvoiceWorker({ config, db, logger, metrics });
// alerts are jobs too: the webhook deliveries run beside billing
const webhooks = await startWebhookWorker({ config, db, logger: logger.child({ component: "webhooks" }) });
const ops = await startOpsServer(
  config.http.host,
  config.ops.invoicesHttpPort,
  {
    checks,
    metrics,
    required: ["postgres", "redis"],
    refresh: [invoiceRefresher(metrics, new Invoices(db, config))],
    cacheMs: config.ops.cacheMs,
    metricsToken: config.ops.metricsToken,
  },
  logger,
);
logger.info(
  { period: config.billing.period, timeZone: config.billing.timeZone, ops: config.ops.invoicesHttpPort },
  "invoice worker running",
);
onShutdown(logger, [
  async () => ops?.close(),
  () => worker.stop(),
  () => webhooks.stop(),
  async () => redis.disconnect(),
  () => db.$disconnect(),
]);
