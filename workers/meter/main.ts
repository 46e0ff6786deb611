// Meter process only: `tsx workers/meter/main.ts`. Run several for more partitions.
import { closeServices, connectServices } from "../../src/bootstrap.ts";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { onShutdown } from "../../src/lib/shutdown.ts";
import { startMeter } from "./consumer.ts";

const config = loadConfig();
const logger = createLogger(config.logLevel, "meter");
const services = await connectServices(config, logger);
const meter = await startMeter({ ...services, config, logger });
logger.info({ topic: config.kafka.rawTopic, group: config.kafka.groupId }, "meter running");
onShutdown(logger, [() => meter.stop(), () => closeServices(services)]);
