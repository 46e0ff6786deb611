// The whole pipeline in-process against the real local services: ingest app -> Kafka -> meter ->
// PostgreSQL. Topics and the consumer group are unique per stack; the database is unique per file.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import type { FastifyInstance } from "fastify";
import type { Kafka, KafkaMessage } from "kafkajs";
import { closeServices, connectServices, type Services } from "../../src/bootstrap.ts";
import { loadConfig, type Config } from "../../src/config.ts";
import { startApi } from "../../src/composition.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { startMeter, type Meter } from "../../workers/meter/consumer.ts";
import { startDeadLetterRecorder } from "../../workers/dead-letters/recorder.ts";
import { startWebhookWorker } from "../../workers/webhooks/worker.ts";
import { createTestDatabase } from "./db.ts";
import { waitFor } from "./wait.ts";

export const INGEST_SECRET = "test-ingest-secret";
export const ADMIN_KEY = "test-admin-key";

export type Stack = Services & {
  config: Config;
  app: FastifyInstance;
  meter: Meter | undefined;
  close(): Promise<void>;
};

export function testConfig(databaseUrl: string, env: Record<string, string> = {}): Config {
  const suffix = randomBytes(4).toString("hex");
  return loadConfig({
    NODE_ENV: "test",
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    DATABASE_URL: databaseUrl,
    KAFKA_TOPIC_RAW: `test.${suffix}.raw`,
    KAFKA_TOPIC_DLQ: `test.${suffix}.dlq`,
    KAFKA_GROUP_ID: `test-${suffix}`,
    KAFKA_PARTITIONS: "2",
    REDIS_PREFIX: `test-${suffix}`,
    INGEST_SECRET,
    ADMIN_API_KEY: ADMIN_KEY,
    // tests make thousands of calls a minute with one key (and with wrong keys on purpose); the limits have their own
    // test
    RATE_LIMIT_PER_MINUTE: "10000000",
    RATE_LIMIT_FAILED_AUTH_PER_MINUTE: "10000000",
    ...env,
  });
}

/** Starts app + meter on a fresh database; `close()` stops everything and drops the database. */
export async function startStack(
  env: Record<string, string> = {},
  opts: { meter?: boolean; clock?: () => Date; webhooks?: boolean } = {},
): Promise<Stack> {
  const database = await createTestDatabase();
  const config = testConfig(database.url, env);
  const logger = createLogger(config.logLevel);
  const services = await connectServices(config, logger);
  const app = await startApi({ ...services, config, logger, clock: opts.clock });
  const meter = opts.meter === false ? undefined : await startMeter({ ...services, config, logger });
  const recorder = opts.meter === false ? undefined : await startDeadLetterRecorder({ ...services, config, logger });
  const webhooks = opts.webhooks
    ? await startWebhookWorker({ config, db: services.db, logger, schedule: false })
    : undefined;
  const close = async () => {
    await app.close();
    await webhooks?.stop();
    await meter?.stop();
    await recorder?.stop();
    await closeServices(services);
    await database.drop();
  };
  return { ...services, config, app, meter, close };
}

export function ingest(stack: Stack, body: unknown, headers: Record<string, string> = {}) {
  return stack.app.inject({
    method: "POST",
    url: "/ingest/kong",
    headers: { "content-type": "application/json", authorization: `Bearer ${INGEST_SECRET}`, ...headers },
    payload: typeof body === "string" || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
}

/** The seed's Kong config (the original plugin's two consumers), as a file the tests import. */
export const SEED_KONG_CONFIG = readFileSync(new URL("../fixtures/seed-kong.yaml", import.meta.url), "utf8");

/** Imports the seed's consumers through the API, as an operator would; returns the report. */
export async function importSeed(stack: Stack) {
  const res = await stack.app.inject({
    method: "POST",
    url: "/v1/imports/kong-config",
    headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/yaml" },
    payload: SEED_KONG_CONFIG,
  });
  if (res.statusCode !== 200) throw new Error(`seed import answered ${res.statusCode}: ${res.body}`);
  return res.json() as { summary: { created: number } };
}

export function admin(stack: Stack, method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE", url: string, body?: unknown) {
  return stack.app.inject({
    method,
    url,
    headers: {
      authorization: `Bearer ${ADMIN_KEY}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    payload: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Reads every message of a topic from the beginning until `count` have arrived. */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  count: number,
  timeoutMs = 15_000,
): Promise<KafkaMessage[]> {
  const consumer = kafka.consumer({ groupId: `reader-${randomBytes(4).toString("hex")}`, maxWaitTimeInMs: 100 });
  const seen: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message) });
    await waitFor(() => seen.length >= count, timeoutMs, `${count} messages on ${topic}`);
    return seen;
  } finally {
    await consumer.disconnect();
  }
}

export const header = (m: KafkaMessage, name: string) => m.headers?.[name]?.toString();
