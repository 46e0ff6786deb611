// Invoice worker process only: `tsx workers/invoices/main.ts`.
import { loadConfig } from "../../src/config.ts";
import { createPrisma } from "../../src/db/client.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { onShutdown } from "../../src/lib/shutdown.ts";
import { startInvoiceWorker } from "./worker.ts";

const config = loadConfig();
const logger = createLogger(config.logLevel, "invoices");
const db = createPrisma(config.databaseUrl);
const worker = await startInvoiceWorker({ config, db, logger });
logger.info({ period: config.billing.period, timeZone: config.billing.timeZone }, "invoice worker running");
onShutdown(logger, [() => worker.stop(), () => db.$disconnect()]);
