// The meter's Kafka consumer group. Offsets are resolved and committed only after the batch's
// transaction has committed, so a crash between the two redelivers events that are then skipped
// as duplicates: nothing lost, nothing counted twice.
import type { Consumer, EachBatchPayload, Kafka } from "kafkajs";
import type { Config } from "../../src/config.ts";
import type { PrismaClient } from "../../src/db/client.ts";
import { deadLetter } from "../../src/kafka/dead-letter.ts";
import type { UsageProducer } from "../../src/kafka/producer.ts";
import type { Logger } from "../../src/lib/logger.ts";
import { meterBatch, type BatchResult } from "./pipeline.ts";

/** Bounds one transaction; a fetched batch larger than this is metered in several. */
const CHUNK = 500;

export type MeterDeps = {
  kafka: Kafka;
  db: PrismaClient;
  producer: UsageProducer;
  config: Config;
  logger: Logger;
  /** Called after each committed chunk (used by the benchmark and tests to observe progress). */
  onMetered?: (result: BatchResult) => void;
};

export type Meter = { stop(): Promise<void> };

async function handleBatch(payload: EachBatchPayload, deps: MeterDeps): Promise<void> {
  const { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale } = payload;
  const log = deps.logger;
  for (let i = 0; i < batch.messages.length; i += CHUNK) {
    if (!isRunning() || isStale()) return;
    const chunk = batch.messages.slice(i, i + CHUNK).map((m) => ({ ...m, topic: batch.topic, partition: batch.partition }));
    const result = await meterBatch(chunk, deps);
    await deps.producer.send([
      {
        topic: deps.config.kafka.deadLetterTopic,
        messages: result.deadLetters.map((d) =>
          deadLetter(d.message.value, d.message.key, {
            stage: "meter",
            reason: d.reason,
            source: { topic: batch.topic, partition: batch.partition, offset: d.message.offset },
          }),
        ),
      },
    ]);
    for (const d of result.deadLetters) {
      log.warn({ partition: batch.partition, offset: d.message.offset, reason: d.reason }, "usage message dead-lettered");
    }
    resolveOffset(chunk[chunk.length - 1]!.offset);
    await commitOffsetsIfNecessary();
    await heartbeat();
    log.debug({ partition: batch.partition, inserted: result.insertedIds.size, duplicates: result.duplicates }, "batch metered");
    deps.onMetered?.(result);
  }
}

export async function startMeter(deps: MeterDeps): Promise<Meter> {
  const { config } = deps;
  const consumer: Consumer = deps.kafka.consumer({
    groupId: config.kafka.groupId,
    maxWaitTimeInMs: config.kafka.maxWaitMs,
    retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 10_000 },
  });
  await consumer.connect();
  await consumer.subscribe({ topic: config.kafka.rawTopic, fromBeginning: true });
  await consumer.run({
    eachBatchAutoResolve: false,
    autoCommit: true,
    partitionsConsumedConcurrently: Math.min(config.kafka.partitions, 2),
    eachBatch: async (payload) => {
      try {
        await handleBatch(payload, deps);
      } catch (err) {
        // Database or Kafka trouble: nothing of the unresolved part is committed; kafkajs retries it.
        deps.logger.error({ err, partition: payload.batch.partition }, "batch failed; it will be redelivered");
        throw err;
      }
    },
  });
  return { stop: () => consumer.disconnect() };
}
