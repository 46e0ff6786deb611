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

const config = loadConfig();
const logger = createLogger(config.logLevel, "invoices");
const db = createPrisma(config.databaseUrl);
const redis = redisConnection(config, "client");
const metrics = createMetrics();
const checks = new DependencyChecks({ db, redis });
const worker = await startInvoiceWorker({ config, db, logger, metrics });
const ops = await startOpsServer(config.http.host, config.ops.invoicesHttpPort, { checks, metrics, required: ["postgres", "redis"], refresh: [invoiceRefresher(metrics, db)] }, logger);
logger.info({ period: config.billing.period, timeZone: config.billing.timeZone, ops: config.ops.invoicesHttpPort }, "invoice worker running");
onShutdown(logger, [async () => ops?.close(), () => worker.stop(), async () => redis.disconnect(), () => db.$disconnect()]);
