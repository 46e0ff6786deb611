// API process only (ingest + usage API): `tsx src/server.ts`.
import { closeServices, connectServices } from "./bootstrap.ts";
import { loadConfig } from "./config.ts";
import { startApi } from "./composition.ts";
import { createLogger } from "./lib/logger.ts";
import { onShutdown } from "./lib/shutdown.ts";

const config = loadConfig();
const logger = createLogger(config.logLevel);
const services = await connectServices(config, logger);
const app = await startApi({ ...services, config, logger });
await app.listen({ host: config.http.host, port: config.http.port });
onShutdown(logger, [() => app.close(), () => closeServices(services)]);
