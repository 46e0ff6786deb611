// `npm start`: the API, a meter worker, the invoice worker and the webhook worker in one process
// (scripts/start.sh has already started or found Kafka and migrated the database). For separate
// processes use src/server.ts and workers/meter/main.ts and workers/invoices/main.ts.
import { closeServices, connectServices } from "../src/bootstrap.ts";
import { loadConfig } from "../src/config.ts";
import { startApi } from "../src/composition.ts";
import { createLogger } from "../src/lib/logger.ts";
import { onShutdown } from "../src/lib/shutdown.ts";
import { startupSummary } from "../src/ops/startup-summary.ts";
import { startMeter } from "./meter/consumer.ts";
import { startInvoiceWorker } from "./invoices/worker.ts";
import { startWebhookWorker } from "./webhooks/worker.ts";
import { startDeadLetterRecorder } from "./dead-letters/recorder.ts";

const config = loadConfig();
const logger = createLogger(config.logLevel);
const services = await connectServices(config, logger);
const meter = await startMeter({ ...services, config, logger: logger.child({ component: "meter" }) });
const recorder = await startDeadLetterRecorder({
  ...services,
  config,
  logger: logger.child({ component: "dead-letters" }),
});
const invoices = await startInvoiceWorker({
  config,
  db: services.db,
  metrics: services.metrics,
  webhookQueue: services.webhookQueue,
  logger: logger.child({ component: "invoices" }),
});
const webhooks = await startWebhookWorker({ config, db: services.db, logger: logger.child({ component: "webhooks" }) });
const app = await startApi({ ...services, config, logger });
await app.listen({ host: config.http.host, port: config.http.port });
logger.info({ ingest: `http://${config.http.host}:${config.http.port}/ingest/kong` }, "tokenmeter running");
// for the person who typed npm start; on stderr, so stdout stays one JSON log entry per line
const e = process.env;
console.error(
  startupSummary(config, {
    kafka: e.TOKENMETER_KAFKA_STATE,
    database: e.TOKENMETER_DATABASE_STATE,
    migrationsApplied: e.TOKENMETER_MIGRATIONS_APPLIED,
  }),
);
onShutdown(logger, [
  () => app.close(),
  () => meter.stop(),
  () => recorder.stop(),
  () => invoices.stop(),
  () => webhooks.stop(),
  () => closeServices(services),
]);
