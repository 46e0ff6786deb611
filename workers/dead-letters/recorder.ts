// Records every message of the dead-letter topic in PostgreSQL (dead_letters), with credentials
// redacted again whatever their shape, so an operator can list, inspect and replay them. A consumer
// group of its own; offsets are committed after the rows, and a row already recorded is skipped,
// so each dead letter is recorded once. Runs beside the meter.
import type { Consumer, EachBatchPayload, Kafka } from "kafkajs";
import type { Config } from "../../src/config.ts";
import type { PrismaClient } from "../../src/db/client.ts";
import { classifyDbError, TransientFailure } from "../../src/db/errors.ts";
import { recordDeadLetters, rowOf } from "../../src/dead-letters/dead-letter.repository.ts";
import { redactPayload } from "../../src/ingest/redact.ts";
import { untilDone } from "../../src/kafka/until-done.ts";
import type { Logger } from "../../src/lib/logger.ts";
import type { Metrics } from "../../src/ops/metrics.ts";

export type RecorderDeps = { kafka: Kafka; db: PrismaClient; config: Config; logger: Logger; metrics: Metrics };

async function record(payload: EachBatchPayload, deps: RecorderDeps): Promise<void> {
  const { batch } = payload;
  const log = deps.logger.child({ topic: batch.topic, partition: batch.partition });
  const rows = batch.messages.map((m) =>
    rowOf(batch.topic, batch.partition, m, redactPayload(m.value ?? Buffer.alloc(0), deps.config.ingest.redactKeys)),
  );
  const done = await untilDone(
    async () => {
      try {
        return await recordDeadLetters(deps.db, rows);
      } catch (err) {
        throw new TransientFailure({ ...classifyDbError(err), kind: "transient" }, err);
      }
    },
    payload,
    log,
    deps.metrics,
  );
  if (done === undefined || batch.messages.length === 0) return;
  payload.resolveOffset(batch.messages[batch.messages.length - 1]!.offset);
  await payload.commitOffsetsIfNecessary();
  log.debug({ recorded: done, messages: batch.messages.length }, "dead letters recorded");
}

export async function startDeadLetterRecorder(deps: RecorderDeps): Promise<{ stop(): Promise<void> }> {
  const consumer: Consumer = deps.kafka.consumer({
    groupId: `${deps.config.kafka.groupId}.dead-letters`,
    maxWaitTimeInMs: deps.config.kafka.maxWaitMs,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: deps.config.kafka.deadLetterTopic, fromBeginning: true });
  await consumer.run({ eachBatchAutoResolve: false, autoCommit: true, eachBatch: (payload) => record(payload, deps) });
  return { stop: () => consumer.disconnect() };
}
