// Meter process only: `tsx workers/meter/main.ts`. Run several for more partitions.
import { closeServices, connectServices } from "../../src/bootstrap.ts";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { onShutdown } from "../../src/lib/shutdown.ts";
import { startOpsServer } from "../../src/http/ops-server.ts";
import { MeterProgress } from "../../src/ops/meter-progress.ts";
import { startMeter } from "./consumer.ts";
import { startDeadLetterRecorder } from "../dead-letters/recorder.ts";

const config = loadConfig();
const logger = createLogger(config.logLevel, "meter");
const services = await connectServices(config, logger);
// the ops port first: liveness must not wait for the group to take this member in
const progress = new MeterProgress(services.checks, config, services.metrics);
progress.start();
const ops = await startOpsServer(
  config.http.host,
  config.ops.meterHttpPort,
  {
    ...services,
    required: ["postgres", "kafka"],
    progress,
    stallIsUnready: true,
    cacheMs: config.ops.cacheMs,
    metricsToken: config.ops.metricsToken,
  },
  logger,
);
const meter = await startMeter({ ...services, config, logger });
const recorder = await startDeadLetterRecorder({
  ...services,
  config,
  logger: logger.child({ component: "dead-letters" }),
});
logger.info(
  { topic: config.kafka.rawTopic, group: config.kafka.groupId, ops: config.ops.meterHttpPort },
  "meter running",
);
onShutdown(logger, [
  async () => ops?.close(),
  () => meter.stop(),
  () => recorder.stop(),
  async () => progress.stop(),
  () => closeServices(services),
]);
