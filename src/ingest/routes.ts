// POST /ingest/kong: what Kong's http-log plugin sends. The answer is 2xx only once Kafka holds
// every accepted entry and every dead letter, since Kong drops a batch after a minute of retries.
import { createHash } from "node:crypto";
import type { FastifyInstance } from "fastify";
import type { Message } from "kafkajs";
import type { Config } from "../config.ts";
import { AppError } from "../domain/errors.ts";
import { stringifyJson } from "../domain/json.ts";
import { eventIdOf, partitionKeyOf, type RawUsageEnvelope } from "../domain/usage-event.ts";
import { deadLetter, fitted } from "../kafka/dead-letter.ts";
import type { UsageProducer } from "../kafka/producer.ts";
import type { Metrics } from "../ops/metrics.ts";
import { requireIngestSecret } from "../http/auth.ts";
import { checkEntry, entriesOf, type RejectCode } from "./entries.ts";
import { redactEntry, redactText } from "./redact.ts";

export type IngestDeps = { config: Config; producer: UsageProducer; metrics: Metrics };

export async function ingestRoutes(app: FastifyInstance, deps: IngestDeps): Promise<void> {
  const { config, producer, metrics } = deps;
  const redactKeys = new Set(config.ingest.redactKeys);

  // Kong sends application/json; take any type as raw bytes so a wrong label is not a lost batch.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: config.ingest.bodyLimitBytes }, (_req, body, done) =>
    done(null, body),
  );
  app.addHook("onRequest", requireIngestSecret(config.ingest.secret));
  app.addHook("onResponse", async (request, reply) => {
    if (request.routeOptions.url === "/ingest/kong") metrics.ingestRequests.inc({ status: String(reply.statusCode) });
  });

  app.post("/ingest/kong", async (request, reply) => {
    const body = (request.body as Buffer | undefined) ?? Buffer.alloc(0);
    let values: unknown[];
    try {
      values = entriesOf(body);
    } catch (err) {
      // Unusable as a whole: answer 400, but keep the bytes for the operator (best effort).
      if (err instanceof AppError) await keepUnusableBody(producer, config, body, err.message, redactKeys).catch(() => {});
      throw err;
    }
    const { accepted, letters, rejected, codes } = sortEntries(values, new Date().toISOString(), redactKeys, producer);
    await producer.send([
      { topic: config.kafka.rawTopic, messages: accepted },
      { topic: config.kafka.deadLetterTopic, messages: letters },
    ]);
    metrics.ingestEntries.inc({ result: "accepted", reason: "" }, accepted.length);
    for (const code of codes) metrics.ingestEntries.inc({ result: "rejected", reason: code });
    if (rejected.length) request.log.warn({ rejected }, "ingest entries dead-lettered");
    return reply.code(202).send({ accepted: accepted.length, rejected });
  });
}

/** Accepted entries as raw-topic messages; unusable ones as dead letters with their index and reason. */
function sortEntries(values: unknown[], receivedAt: string, redactKeys: ReadonlySet<string>, producer: UsageProducer) {
  const accepted: Message[] = [];
  const letters: Message[] = [];
  const rejected: { index: number; reason: string }[] = [];
  const codes: RejectCode[] = [];
  const reject = (index: number, code: RejectCode, reason: string, value: string) => {
    rejected.push({ index, reason });
    codes.push(code);
    letters.push(fitted(deadLetter(value, null, { stage: "ingest", reason, index }), (m) => producer.fits(m), producer.maxMessageBytes));
  };
  values.forEach((value, index) => {
    const check = checkEntry(value);
    if (!check.ok) {
      if (typeof value === "object" && value !== null) redactEntry(value as Record<string, unknown>, redactKeys);
      return reject(index, check.code, check.reason, stringifyJson(value));
    }
    redactEntry(check.entry, redactKeys);
    const envelope: RawUsageEnvelope = { v: 1, id: eventIdOf(check.entry), source: "kong-http-log", receivedAt, log: check.entry };
    const message = { key: partitionKeyOf(check.entry), value: stringifyJson(envelope) };
    if (producer.fits(message)) accepted.push(message);
    else reject(index, "too_large", `entry is ${Buffer.byteLength(message.value)} bytes once written out, over KAFKA_MAX_MESSAGE_BYTES`, message.value);
  });
  return { accepted, letters, rejected, codes };
}

async function keepUnusableBody(
  producer: UsageProducer,
  config: Config,
  body: Buffer,
  reason: string,
  redactKeys: ReadonlySet<string>,
) {
  if (body.length === 0) return;
  // Kong re-posts the same bytes on every retry; the key lets an operator spot the copies.
  const key = createHash("sha256").update(body).digest("hex");
  const value = redactText(body.toString("utf8"), redactKeys);
  await producer.send([{ topic: config.kafka.deadLetterTopic, messages: [fitted(deadLetter(value, key, { stage: "ingest", reason }), (m) => producer.fits(m), producer.maxMessageBytes)] }]);
}
