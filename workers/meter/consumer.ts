// The meter's Kafka consumer group. Offsets are resolved and committed only after the chunk's
// transactions have committed and its dead letters are in Kafka, so a crash in between redelivers
// events that are then skipped as duplicates: nothing lost, nothing counted twice.
// A database or Kafka outage is retried here, with backoff and heartbeats, without committing; an
// event the database refuses is dead-lettered (isolate.ts) and the partition moves on.
import { isRebalance } from "../../src/kafka/client.ts";
import type { Consumer, EachBatchPayload, Kafka, KafkaMessage } from "kafkajs";
import type { Config } from "../../src/config.ts";
import type { PrismaClient } from "../../src/db/client.ts";
import type { SqlPool } from "../../src/db/pool.ts";
import { redactPayload } from "../../src/ingest/redact.ts";
import { deadLetter, fitted } from "../../src/kafka/dead-letter.ts";
import type { UsageProducer } from "../../src/kafka/producer.ts";
import type { Logger } from "../../src/lib/logger.ts";
import type { Metrics } from "../../src/ops/metrics.ts";
import { untilDone } from "../../src/kafka/until-done.ts";
import { meterBatch, type BatchResult } from "./pipeline.ts";
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { HoldLedger } from "../../src/budgets/hold-ledger.ts";
import { settleMetered } from "../../src/budgets/settlement.ts";

/** Bounds one chunk (and so one transaction and the time between heartbeats), in messages and bytes. */
const CHUNK_MESSAGES = 500;
const CHUNK_BYTES = 4 * 1024 * 1024;

export type MeterConsumerDeps = {
  kafka: Kafka;
  db: PrismaClient;
  pool: SqlPool;
  producer: UsageProducer;
  config: Config;
  logger: Logger;
  metrics: Metrics;
  /** The budget hold ledger and alert queue; without them budgets are not settled here. */
  redis?: Redis;
  webhookQueue?: Queue;
  /** Called after each committed chunk (used by the benchmark and tests to observe progress). */
  onMetered?: (result: BatchResult) => void;
};

type Settle = (stored: BatchResult["stored"]) => Promise<void>;

function budgetSettlement(deps: MeterConsumerDeps): Settle {
  if (!deps.redis) return async () => {};
  const { db, config, logger, metrics } = deps;
  const ledger = new HoldLedger(deps.redis, config.redis.prefix);
  const alerts = deps.webhookQueue ? { db, webhookQueue: deps.webhookQueue, config, logger } : undefined;
  const onRedisError = () => metrics.dependencyErrors.inc({ dependency: "redis" });
  return (stored) => settleMetered({ db, ledger, config, alerts, logger, onRedisError }, stored);
}

export type Meter = { stop(): Promise<void> };

/** Consecutive messages, at most CHUNK_MESSAGES and (unless one message alone is larger) CHUNK_BYTES. */
function chunksOf<M extends { value: Buffer | null }>(messages: M[]): M[][] {
  const chunks: M[][] = [];
  let current: M[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = m.value?.length ?? 0;
    if (current.length > 0 && (current.length >= CHUNK_MESSAGES || bytes + size > CHUNK_BYTES)) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length) chunks.push(current);
  return chunks;
}

async function handleBatch(payload: EachBatchPayload, deps: MeterConsumerDeps, settle: Settle): Promise<void> {
  const { batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale } = payload;
  const log = deps.logger.child({ topic: batch.topic, partition: batch.partition });
  for (const chunk of chunksOf<KafkaMessage>(batch.messages)) {
    if (!isRunning() || isStale()) return;
    const t0 = performance.now();
    const messages = chunk.map((m) => ({ ...m, topic: batch.topic, partition: batch.partition }));
    const chunkLog = log.child({ firstOffset: chunk[0]!.offset, lastOffset: chunk[chunk.length - 1]!.offset });
    const done = await untilDone(
      async () => {
        const result = await meterBatch(messages, deps);
        await sendDeadLetters(result, batch.topic, batch.partition, deps);
        return result;
      },
      payload,
      chunkLog,
      deps.metrics,
    );
    if (!done) return;
    for (const d of done.deadLetters) {
      chunkLog.warn(
        { offset: d.message.offset, eventId: d.eventId, consumer: d.consumer, kind: d.kind, reason: d.reason },
        "usage message dead-lettered",
      );
    }
    // counted as soon as PostgreSQL holds it: a rebalance failing the heartbeat below must not hide it
    recordChunk(deps.metrics, done, t0);
    // after the commit: a hold is replaced by a cost PostgreSQL already holds (never lost, see src/budgets)
    await settle(done.stored);
    chunkLog.debug({ inserted: done.metered.length, duplicates: done.duplicates }, "chunk metered");
    deps.onMetered?.(done);
    resolveOffset(chunk[chunk.length - 1]!.offset);
    await commitOffsetsIfNecessary();
    await heartbeat();
  }
}

function recordChunk(metrics: Metrics, done: BatchResult, t0: number): void {
  metrics.meterChunkSeconds.observe((performance.now() - t0) / 1000);
  metrics.meterEvents.inc({ result: "metered" }, done.metered.length);
  metrics.meterEvents.inc({ result: "merged" }, done.merged);
  metrics.meterEvents.inc({ result: "duplicate" }, done.duplicates);
  metrics.meterEvents.inc({ result: "dead_lettered" }, done.deadLetters.length);
  for (const d of done.deadLetters) metrics.meterDeadLetters.inc({ reason: d.kind });
  const now = Date.now();
  for (const e of done.metered) {
    for (const a of e.anomalies) metrics.meterAnomalies.inc({ anomaly: a });
    metrics.endToEndSeconds.observe(Math.max(0, now - e.occurredAt.getTime()) / 1000);
    if (!e.billable) continue;
    metrics.genAiTokens.observe({ gen_ai_token_type: "input", gen_ai_operation_name: "chat" }, e.inputTokens);
    metrics.genAiTokens.observe({ gen_ai_token_type: "output", gen_ai_operation_name: "chat" }, e.outputTokens);
    if (metrics.perConsumer && e.consumerId) {
      metrics.consumerTokens.inc({ consumer: e.consumerId, gen_ai_token_type: "input" }, e.inputTokens);
      metrics.consumerTokens.inc({ consumer: e.consumerId, gen_ai_token_type: "output" }, e.outputTokens);
      metrics.consumerCost.inc({ consumer: e.consumerId }, e.cost.toNumber());
    }
  }
}

function sendDeadLetters(result: BatchResult, topic: string, partition: number, deps: MeterConsumerDeps) {
  const { producer } = deps;
  const messages = result.deadLetters.map((d) =>
    fitted(
      deadLetter(d.message.value && redactPayload(d.message.value, deps.config.ingest.redactKeys), d.message.key, {
        stage: "meter",
        kind: d.kind,
        reason: d.reason,
        eventId: d.eventId,
        source: { topic, partition, offset: d.message.offset },
      }),
      producer,
    ),
  );
  return producer.send([{ topic: deps.config.kafka.deadLetterTopic, messages }]);
}

export async function startMeter(deps: MeterConsumerDeps): Promise<Meter> {
  const { config } = deps;
  const consumer: Consumer = deps.kafka.consumer({
    groupId: config.kafka.groupId,
    maxWaitTimeInMs: config.kafka.maxWaitMs,
    sessionTimeout: config.kafka.sessionTimeoutMs,
    heartbeatInterval: Math.min(3000, Math.floor(config.kafka.sessionTimeoutMs / 3)),
    // a record batch larger than this still arrives whole (the broker always returns the first one)
    maxBytesPerPartition: 4 * 1024 * 1024,
    maxBytes: 16 * 1024 * 1024,
    retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 10_000 },
  });
  const settle = budgetSettlement(deps);
  await consumer.connect();
  await consumer.subscribe({ topic: config.kafka.rawTopic, fromBeginning: true });
  await consumer.run({
    eachBatchAutoResolve: false,
    autoCommit: true,
    partitionsConsumedConcurrently: Math.min(config.kafka.partitions, 2),
    eachBatch: async (payload) => {
      try {
        await handleBatch(payload, deps, settle);
      } catch (err) {
        // Not the data and not an outage (a fault of the meter itself, or the group rebalancing):
        // nothing of the unresolved part is committed; kafkajs retries it and restarts the consumer
        // if it keeps failing.
        if (isRebalance(err))
          deps.logger.info(
            { partition: payload.batch.partition },
            "batch interrupted by a rebalance; it will be redelivered",
          );
        else deps.logger.error({ err, partition: payload.batch.partition }, "batch failed; it will be redelivered");
        throw err;
      }
    },
  });
  return { stop: () => consumer.disconnect() };
}
