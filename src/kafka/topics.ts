import type { Kafka } from "kafkajs";
import type { Config } from "../config.ts";

/** Creates the raw and dead-letter topics if missing, with the configured partition count. */
export async function ensureTopics(kafka: Kafka, config: Config): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const wanted = [config.kafka.rawTopic, config.kafka.deadLetterTopic].filter((t) => !existing.has(t));
    if (wanted.length) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: wanted.map((topic) => ({ topic, numPartitions: config.kafka.partitions, replicationFactor: -1 })),
      });
    }
  } finally {
    await admin.disconnect();
  }
}

/** Waits until a broker answers, for start-up after `kafka-local.sh start`. */
export async function waitForBroker(kafka: Kafka, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const admin = kafka.admin();
    try {
      await admin.connect();
      await admin.describeCluster();
      return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }
}
