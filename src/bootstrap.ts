// What every process needs before it does work: a reachable broker with our topics, a database
// client, a producer and the billing queue. Entry points call this, then start their part.
import type { Queue } from "bullmq";
import type { Kafka } from "kafkajs";
import type { Redis } from "ioredis";
import type { Config } from "./config.ts";
import { createPrisma, type PrismaClient } from "./db/client.ts";
import { createSqlPool, type SqlPool } from "./db/pool.ts";
import { createBillingQueue, queueCall, redisConnection } from "./jobs/queues.ts";
import { createWebhookQueue } from "./alerts/alert.service.ts";
import { createKafka } from "./kafka/client.ts";
import { UsageProducer } from "./kafka/producer.ts";
import { ensureTopics, waitForBroker } from "./kafka/topics.ts";
import type { Logger } from "./lib/logger.ts";
import { DependencyChecks } from "./ops/health.ts";
import { createMetrics, type Metrics } from "./ops/metrics.ts";

export type Services = {
  kafka: Kafka;
  db: PrismaClient;
  /** The meter's set-based writes (src/db/pool.ts); everything else goes through `db`. */
  pool: SqlPool;
  producer: UsageProducer;
  billingQueue: Queue;
  /** Alert deliveries (src/alerts). */
  webhookQueue: Queue;
  redis: Redis;
  metrics: Metrics;
  checks: DependencyChecks;
};

export async function connectServices(config: Config, logger: Logger): Promise<Services> {
  const kafka = createKafka(config, logger);
  await waitForBroker(kafka);
  await ensureTopics(kafka, config);
  const db = createPrisma(config.databaseUrl);
  await db.$queryRaw`SELECT 1`;
  // Redis may be away: the queue then fails its calls at once, and metering goes on regardless.
  const redis = redisConnection(config, "client");
  const billingQueue = createBillingQueue(config, redis);
  const webhookQueue = createWebhookQueue(config, redis);
  const metrics = createMetrics({ perConsumer: config.ops.metricsPerConsumer });
  webhookQueue.on("error", (err) => logger.warn({ err }, "webhook queue: Redis unavailable"));
  billingQueue.on("error", (err) => {
    metrics.dependencyErrors.inc({ dependency: "redis" });
    logger.warn({ err }, "billing queue: Redis unavailable");
  });
  const pool = createSqlPool(config.databaseUrl, (err) => {
    metrics.dependencyErrors.inc({ dependency: "postgres" });
    logger.warn({ err }, "database connection lost; the pool reconnects");
  });
  const producer = new UsageProducer(kafka, config.ingest.produceTimeoutMs, config.kafka.maxMessageBytes, metrics);
  return {
    kafka,
    db,
    pool,
    producer,
    billingQueue,
    webhookQueue,
    redis,
    metrics,
    checks: new DependencyChecks({ db, kafka, redis }),
  };
}

export async function closeServices(s: Services): Promise<void> {
  await s.checks.close();
  await s.producer.disconnect();
  // a connection passed to BullMQ is not closed by it; with Redis away, close() would wait for ever
  s.redis.disconnect();
  await queueCall(2000, "closing the billing queue", () => s.billingQueue.close()).catch(() => {});
  await queueCall(2000, "closing the webhook queue", () => s.webhookQueue.close()).catch(() => {});
  await s.pool.end();
  await s.db.$disconnect();
}
