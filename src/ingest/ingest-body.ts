// One posted body through ingest: split into entries, each checked, redacted and produced to the
// raw topic, or dead-lettered with its index and reason; a body unusable as a whole is kept as a
// dead letter (best effort) and refused. Kong's POST and the replay of an ingest dead letter both
// come through here.
import { createHash } from "node:crypto";
import type { Message } from "kafkajs";
import type { Config } from "../config.ts";
import { AppError } from "../domain/errors.ts";
import { stringifyJson } from "../domain/json.ts";
import { eventIdOf, partitionKeyOf, type RawUsageEnvelope } from "../domain/usage-event.ts";
import { deadLetter, fitted } from "../kafka/dead-letter.ts";
import type { UsageProducer } from "../kafka/producer.ts";
import type { Metrics } from "../ops/metrics.ts";
import { checkEntry, entriesOf, type RejectCode } from "./entries.ts";
import { redactDeep, redactText } from "./redact.ts";

export type IngestDeps = { config: Config; producer: UsageProducer; metrics?: Metrics };
export type IngestResult = { accepted: number; rejected: Array<{ index: number; reason: string }> };

/** Resolves once Kafka holds every accepted entry and every dead letter; throws a 400 AppError for an unusable body. */
export async function ingestBody(body: Buffer, deps: IngestDeps): Promise<IngestResult> {
  const { config, producer } = deps;
  const redactKeys = config.ingest.redactKeys;
  let values: unknown[];
  try {
    values = entriesOf(body);
  } catch (err) {
    // unusable as a whole: refused, but the bytes are kept for the operator (best effort)
    if (err instanceof AppError) await keepUnusableBody(deps, body, err.message, redactKeys).catch(() => {});
    throw err;
  }
  return publish(deps, sortEntries(values, new Date().toISOString(), redactKeys, producer));
}

/** Entries sorted into raw-topic messages and dead letters (with their index and reason). */
export type Sorted = {
  accepted: Message[];
  letters: Message[];
  rejected: IngestResult["rejected"];
  codes: RejectCode[];
};

/** Resolves once Kafka holds every accepted message and every dead letter. */
export async function publish({ config, producer, metrics }: IngestDeps, sorted: Sorted): Promise<IngestResult> {
  const { accepted, letters, rejected, codes } = sorted;
  await producer.send([
    { topic: config.kafka.rawTopic, messages: accepted },
    { topic: config.kafka.deadLetterTopic, messages: letters },
  ]);
  metrics?.ingestEntries.inc({ result: "accepted", reason: "" }, accepted.length);
  for (const code of codes) metrics?.ingestEntries.inc({ result: "rejected", reason: code });
  return { accepted: accepted.length, rejected };
}

/** An empty Sorted and the way to reject into it: a dead letter with the entry's index and reason. */
export function sorter(producer: UsageProducer) {
  const sorted: Sorted = { accepted: [], letters: [], rejected: [], codes: [] };
  const reject = (index: number, kind: RejectCode, reason: string, value: string) => {
    sorted.rejected.push({ index, reason });
    sorted.codes.push(kind);
    sorted.letters.push(fitted(deadLetter(value, null, { stage: "ingest", kind, reason, index }), producer));
  };
  /** Accepts a message that fits the topic; a larger one is rejected as too large. */
  const accept = (index: number, message: { key: string; value: string }) => {
    if (producer.fits(message)) sorted.accepted.push(message);
    else
      reject(
        index,
        "too_large",
        `entry is ${Buffer.byteLength(message.value)} bytes once written out, over KAFKA_MAX_MESSAGE_BYTES`,
        message.value,
      );
  };
  return { sorted, reject, accept };
}

/** Accepted entries as raw-topic messages; unusable ones as dead letters with their index and reason. */
function sortEntries(
  values: unknown[],
  receivedAt: string,
  redactKeys: ReadonlySet<string>,
  producer: UsageProducer,
): Sorted {
  const { sorted, reject, accept } = sorter(producer);
  for (const [index, value] of values.entries()) {
    const check = checkEntry(value);
    if (!check.ok) {
      redactDeep(value, redactKeys);
      reject(index, check.code, check.reason, stringifyJson(value));
      continue;
    }
    redactDeep(check.entry, redactKeys);
    const envelope: RawUsageEnvelope = {
      v: 1,
      id: eventIdOf(check.entry),
      source: "kong-http-log",
      receivedAt,
      log: check.entry,
    };
    accept(index, { key: partitionKeyOf(check.entry), value: stringifyJson(envelope) });
  }
  return sorted;
}

export async function keepUnusableBody(
  deps: IngestDeps,
  body: Buffer,
  reason: string,
  redactKeys: ReadonlySet<string>,
  kind = "unusable_body",
) {
  if (body.length === 0) return;
  const { producer, config } = deps;
  // Kong re-posts the same bytes on every retry; the key lets an operator spot the copies.
  const key = createHash("sha256").update(body).digest("hex");
  const value = redactText(body.toString("utf8"), redactKeys);
  const letter = deadLetter(value, key, { stage: "ingest", kind, reason });
  await producer.send([{ topic: config.kafka.deadLetterTopic, messages: [fitted(letter, producer)] }]);
}
