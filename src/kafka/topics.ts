// The raw and dead-letter topics. Their max.message.bytes must hold the largest entry ingest
// accepts (KAFKA_MAX_MESSAGE_BYTES, derived from INGEST_BODY_LIMIT_BYTES): topics we create get
// it, and an existing topic with a smaller limit is raised, keeping its other settings.
import kafkajs, { type Admin, type Kafka } from "kafkajs";
import type { Config } from "../config.ts";

// kafkajs is CommonJS and this export is not visible to ESM named imports
const { ConfigResourceTypes } = kafkajs;
const MAX_MESSAGE_BYTES = "max.message.bytes";
/** describeConfigs' configSource for a setting made on the topic itself. */
const TOPIC_CONFIG_SOURCE = 1;

export async function ensureTopics(kafka: Kafka, config: Config): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = [config.kafka.rawTopic, config.kafka.deadLetterTopic];
    const existing = new Set(await admin.listTopics());
    const wanted = topics.filter((t) => !existing.has(t));
    if (wanted.length) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: wanted.map((topic) => ({
          topic,
          numPartitions: config.kafka.partitions,
          replicationFactor: -1,
          configEntries: [{ name: MAX_MESSAGE_BYTES, value: String(config.kafka.maxMessageBytes) }],
        })),
      });
    }
    for (const topic of topics.filter((t) => existing.has(t)))
      await raiseMessageLimit(admin, topic, config.kafka.maxMessageBytes);
  } finally {
    await admin.disconnect();
  }
}

/** AlterConfigs replaces a topic's whole set of settings, so the ones made on the topic are resent. */
async function raiseMessageLimit(admin: Admin, topic: string, maxMessageBytes: number): Promise<void> {
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
  });
  const entries = described.resources[0]?.configEntries ?? [];
  const current = Number(entries.find((e) => e.configName === MAX_MESSAGE_BYTES)?.configValue ?? 0);
  if (current >= maxMessageBytes) return;
  const kept = entries
    .filter((e) => e.configSource === TOPIC_CONFIG_SOURCE && e.configName !== MAX_MESSAGE_BYTES && !e.isSensitive)
    .map((e) => ({ name: e.configName, value: e.configValue }));
  await admin.alterConfigs({
    validateOnly: false,
    resources: [
      {
        type: ConfigResourceTypes.TOPIC,
        name: topic,
        configEntries: [...kept, { name: MAX_MESSAGE_BYTES, value: String(maxMessageBytes) }],
      },
    ],
  });
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
