// A meter process for the benchmark: the product's meter (workers/meter/consumer.ts) with its
// configuration from the environment, reporting each committed chunk to the parent over IPC
// (how many events, when, and their ids while the parent asks for them).
import { closeServices, connectServices } from "../../src/bootstrap.ts";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { startMeter } from "../../workers/meter/consumer.ts";
import { clock } from "./stats.ts";

const config = loadConfig();
const logger = createLogger(config.logLevel, "meter");
const services = await connectServices(config, logger);
let reportIds = false;
const meter = await startMeter({
  ...services,
  config,
  logger,
  onMetered: (r) =>
    process.send?.({
      at: clock(),
      n: r.metered.length + r.duplicates,
      ids: reportIds ? r.metered.map((e) => e.id) : undefined,
    }),
});
process.send?.({ ready: true });

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await meter.stop();
  await closeServices(services);
  process.exit(0); // a normal exit, so --cpu-prof writes its profile
}
process.on("message", (m: { reportIds?: boolean; stop?: boolean }) => {
  if (m.reportIds !== undefined) reportIds = m.reportIds;
  if (m.stop) void stop();
});
process.on("disconnect", () => void stop());
