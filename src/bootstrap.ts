// What every process needs before it does work: a reachable broker with our topics, a database
// client and a producer. Entry points call this, then start their part.
import type { Kafka } from "kafkajs";
import type { Config } from "./config.ts";
import { createPrisma, type PrismaClient } from "./db/client.ts";
import { createKafka } from "./kafka/client.ts";
import { UsageProducer } from "./kafka/producer.ts";
import { ensureTopics, waitForBroker } from "./kafka/topics.ts";
import type { Logger } from "./lib/logger.ts";

export type Services = { kafka: Kafka; db: PrismaClient; producer: UsageProducer };

export async function connectServices(config: Config, logger: Logger): Promise<Services> {
  const kafka = createKafka(config, logger);
  await waitForBroker(kafka);
  await ensureTopics(kafka, config);
  const db = createPrisma(config.databaseUrl);
  await db.$queryRaw`SELECT 1`;
  return { kafka, db, producer: new UsageProducer(kafka, config.ingest.produceTimeoutMs) };
}
