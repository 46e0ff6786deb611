// API process only (ingest + usage API): `tsx src/server.ts`.
import { connectServices } from "./bootstrap.ts";
import { loadConfig } from "./config.ts";
import { buildApp } from "./http/app.ts";
import { createLogger } from "./lib/logger.ts";
import { onShutdown } from "./lib/shutdown.ts";

const config = loadConfig();
const logger = createLogger(config.logLevel);
const { db, producer } = await connectServices(config, logger);
const app = await buildApp({ config, db, producer, logger });
await app.listen({ host: config.http.host, port: config.http.port });
onShutdown(logger, [() => app.close(), () => producer.disconnect(), () => db.$disconnect()]);
