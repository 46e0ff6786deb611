// The usage producer against the real broker: sends made at the same time are coalesced into fewer
// produce requests, and every caller still resolves only once Kafka holds its own messages.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { Kafka } from "kafkajs";
import { createKafka } from "../../src/kafka/client.ts";
import { UsageProducer } from "../../src/kafka/producer.ts";
import { ensureTopics } from "../../src/kafka/topics.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { testConfig } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

describe("usage producer", () => {
  const config = testConfig("postgresql://postgres@127.0.0.1:5432/unused");
  let kafka: Kafka;
  let producer: UsageProducer;

  before(async () => {
    kafka = createKafka(config, createLogger("silent"));
    await ensureTopics(kafka, config);
    producer = new UsageProducer(kafka, 10_000, config.kafka.maxMessageBytes);
  });
  after(() => producer.disconnect());

  it("coalesces 200 concurrent sends into fewer requests, and Kafka holds every message once", async () => {
    const sends = Array.from({ length: 200 }, (_, i) => ({
      key: `k${i % 7}`,
      value: `m-${i}-${randomBytes(4).toString("hex")}`,
    }));
    await Promise.all(sends.map((m) => producer.send([{ topic: config.kafka.rawTopic, messages: [m] }])));
    assert.ok(producer.requests < sends.length, `${producer.requests} requests for ${sends.length} sends`);

    const seen: string[] = [];
    const consumer = kafka.consumer({ groupId: `producer-test-${randomBytes(4).toString("hex")}` });
    await consumer.connect();
    await consumer.subscribe({ topic: config.kafka.rawTopic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    await waitFor(() => seen.length >= sends.length, 30_000);
    await consumer.disconnect();
    assert.deepEqual([...seen].sort(), sends.map((m) => m.value).sort());
  });

  it("keeps the order of one caller's messages to one key", async () => {
    const values = Array.from({ length: 50 }, (_, i) => `ordered-${i}`);
    const others = Array.from({ length: 20 }, (_, i) =>
      producer.send([{ topic: config.kafka.deadLetterTopic, messages: [{ key: "other", value: `x${i}` }] }]),
    );
    await Promise.all([
      producer.send([
        { topic: config.kafka.deadLetterTopic, messages: values.map((value) => ({ key: "one", value })) },
      ]),
      ...others,
    ]);
    const seen: string[] = [];
    const consumer = kafka.consumer({ groupId: `producer-test-${randomBytes(4).toString("hex")}` });
    await consumer.connect();
    await consumer.subscribe({ topic: config.kafka.deadLetterTopic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) =>
        void (message.key?.toString() === "one" && seen.push(message.value!.toString())),
    });
    await waitFor(() => seen.length >= values.length, 30_000);
    await consumer.disconnect();
    assert.deepEqual(seen, values);
  });
});
