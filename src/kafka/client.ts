import { Kafka, logLevel, type LogEntry } from "kafkajs";
import type { Config } from "../config.ts";
import type { Logger } from "../lib/logger.ts";

const LEVELS: Record<number, "error" | "warn" | "info" | "debug"> = {
  [logLevel.ERROR]: "error",
  [logLevel.WARN]: "warn",
  [logLevel.INFO]: "info",
  [logLevel.DEBUG]: "debug",
};

/** A kafkajs client whose logs go through pino. */
export function createKafka(config: Config, logger: Logger): Kafka {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= "1";
  const log = logger.child({ component: "kafka" });
  return new Kafka({
    clientId: config.kafka.clientId,
    brokers: config.kafka.brokers,
    connectionTimeout: 3000,
    requestTimeout: 10000,
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        log[LEVELS[level] ?? "info"]({ ...rest, namespace: entry.namespace }, message);
      },
  });
}
