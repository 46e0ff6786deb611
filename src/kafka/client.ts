import { createRequire } from "node:module";
import { Kafka, logLevel, type LogEntry } from "kafkajs";
import type { Config } from "../config.ts";
import type { Logger } from "../lib/logger.ts";

const LEVELS: Record<number, "error" | "warn" | "info" | "debug"> = {
  [logLevel.ERROR]: "error",
  [logLevel.WARN]: "warn",
  [logLevel.INFO]: "info",
  [logLevel.DEBUG]: "debug",
};

// kafkajs logs a broker's error answer at error level before it retries, so a fresh broker still
// electing its group coordinator reads like a failure. Answers kafkajs itself marks retriable go to
// debug; if retrying runs out, the failure reaches our code and is logged there.
const RETRIABLE = new Set(
  (
    createRequire(import.meta.url)("kafkajs/src/protocol/error.js") as {
      errorCodes: Array<{ message: string; retriable: boolean }>;
    }
  ).errorCodes
    .filter((e) => e.retriable)
    .map((e) => e.message),
);

/** A group rebalancing (a meter started or stopped) is how a consumer group works, not a failure. */
export const REBALANCING = "The group is rebalancing, so a rejoin is needed";

/** The pino level for a kafkajs log entry. */
export function levelOf(level: number, entry: object): "error" | "warn" | "info" | "debug" {
  const error = (entry as { error?: unknown }).error;
  if (typeof error === "string" && RETRIABLE.has(error)) return "debug";
  if (error === REBALANCING) return "info";
  return LEVELS[level] ?? "info";
}

/** Whether an error is the group rebalancing under a batch (its partition is redelivered to its new owner). */
export const isRebalance = (err: unknown): boolean =>
  (err as { type?: unknown }).type === "REBALANCE_IN_PROGRESS" || (err as Error).message === REBALANCING;

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
        log[levelOf(level, entry)]({ ...rest, namespace: entry.namespace }, message);
      },
  });
}
