// Every entry ingest accepts reaches the meter, whatever its size or shape: large Kong batches
// from one consumer, one very large entry, deep nesting, a prompt that is one long piece.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import kafkajs from "kafkajs";
import { CHAT_RESPONSE, kongLog } from "../fixtures/kong-logs.ts";
import { admin, ingest, startStack, testConfig, type Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";
import { ensureTopics } from "../../src/kafka/topics.ts";

const { ConfigResourceTypes } = kafkajs;
let stack: Stack;

before(async () => {
  stack = await startStack();
});
after(() => stack.close());

async function createConsumer() {
  const kongId = randomUUID();
  const res = await admin(stack, "POST", "/v1/consumers", {
    username: `size-${kongId.slice(0, 8)}`,
    kong_id: kongId,
    metadata: { input_cost_per_token: "0.000001", output_cost_per_token: "0.000002" },
  });
  assert.equal(res.statusCode, 201, res.body);
  return { kongId, id: res.json().id as string };
}

const eventsOf = (consumerId: string) =>
  stack.db.usageEvent.findMany({ where: { consumerId }, orderBy: { occurredAt: "asc" } });

/** A chat request whose logged entry is about `bytes` long, made of varied prose. */
function chatOfSize(bytes: number, seed: number) {
  const words = ["tokens", "billing", "gateway", "consumer", "kong", "meter", "exact", "invoice", "안녕", "数据"];
  let text = "";
  for (let i = 0; text.length < bytes; i++) text += words[(i * 7 + seed) % words.length] + (i % 13 ? " " : ".\n");
  return { model: "gpt-4o", messages: [{ role: "user", content: text }] };
}

async function maxMessageBytes(topic: string): Promise<number> {
  const a = stack.kafka.admin();
  await a.connect();
  try {
    const d = await a.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }],
    });
    return Number(d.resources[0]!.configEntries.find((e) => e.configName === "max.message.bytes")!.configValue);
  } finally {
    await a.disconnect();
  }
}

describe("ingest: size and shape", () => {
  it("a Kong batch of 100 entries of ~20 KB from one consumer is accepted and metered", async () => {
    const c = await createConsumer();
    const batch = Array.from({ length: 100 }, (_, i) =>
      kongLog({ consumer: { id: c.kongId }, requestBody: chatOfSize(20_000, i) }),
    );
    const body = JSON.stringify(batch);
    assert.ok(body.length > 2_000_000, `${body.length} bytes posted`);
    const res = await ingest(stack, body);
    assert.equal(res.statusCode, 202, res.body);
    assert.deepEqual(res.json(), { accepted: 100, rejected: [] });
    await waitFor(
      async () => (await stack.db.usageEvent.count({ where: { consumerId: c.id } })) === 100,
      60_000,
      "100 events",
    );
    const events = await eventsOf(c.id);
    assert.ok(events.every((e) => e.inputSource === "counted" && e.inputTokens > 3000));
  });

  it("one 5 MB entry under a 10 MB limit is accepted and metered", async () => {
    assert.equal(stack.config.ingest.bodyLimitBytes, 10 * 1024 * 1024);
    const c = await createConsumer();
    const entry = kongLog({ consumer: { id: c.kongId }, requestBody: chatOfSize(5 * 1024 * 1024, 1) });
    const res = await ingest(stack, entry);
    assert.equal(res.statusCode, 202, res.body);
    const [event] = await waitFor(
      async () => ((await eventsOf(c.id)).length ? eventsOf(c.id) : undefined),
      60_000,
      "the event",
    );
    assert.equal(event!.inputSource, "counted");
    assert.ok(event!.inputTokens > 500_000, `${event!.inputTokens} tokens`);
    assert.equal(event!.level, 9, "the top load level");
  });

  it("an entry with a custom field nested 100 000 deep is accepted and metered, not a 5xx", async () => {
    const c = await createConsumer();
    const entry =
      JSON.stringify(kongLog({ consumer: { id: c.kongId }, requestId: null })).slice(0, -1) +
      `,"custom":${"[".repeat(100_000)}1${"]".repeat(100_000)}}`;
    const res = await ingest(stack, `[${entry}]`);
    assert.equal(res.statusCode, 202, res.body);
    assert.deepEqual(res.json(), { accepted: 1, rejected: [] });
    await waitFor(async () => (await eventsOf(c.id)).length === 1, 30_000, "the event");
    assert.match((await eventsOf(c.id))[0]!.id, /^sha256:/);
  });

  it("a body nested too deep to be a Kong log at all is a 400, not a 500", async () => {
    const res = await ingest(stack, "[".repeat(1_000_000));
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.field, "body");
  });

  it("a prompt of 1 MB of one character is counted and metered without stalling the partition", async () => {
    const c = await createConsumer();
    const adversarial = kongLog({
      consumer: { id: c.kongId },
      requestBody: { model: "gpt-4o", messages: [{ role: "user", content: "x".repeat(1 << 20) }] },
    });
    const next = kongLog({ consumer: { id: c.kongId }, responseBody: CHAT_RESPONSE });
    assert.equal((await ingest(stack, [adversarial, next])).statusCode, 202);
    await waitFor(async () => (await eventsOf(c.id)).length === 2, 30_000, "both events");
    const event = (await eventsOf(c.id)).find((e) => e.id === (adversarial.request as { id: string }).id)!;
    assert.equal(event.inputSource, "counted");
    assert.deepEqual(event.anomalies, []);
  });

  it("a 256 KiB consumer id is taken promptly: its partition key is a bounded hash", async () => {
    const entry = kongLog({ consumer: { id: "c".repeat(256 * 1024) } });
    const t = performance.now();
    const res = await ingest(stack, entry);
    assert.equal(res.statusCode, 202);
    assert.ok(performance.now() - t < 2000, `took ${Math.round(performance.now() - t)} ms`);
  });

  it("topics are created with a max.message.bytes that holds the largest accepted entry", async () => {
    const expected = 2 * stack.config.ingest.bodyLimitBytes + 1024 * 1024;
    assert.equal(await maxMessageBytes(stack.config.kafka.rawTopic), expected);
    assert.equal(await maxMessageBytes(stack.config.kafka.deadLetterTopic), expected);
  });

  it("an existing topic with a smaller limit is raised, keeping its other settings", async () => {
    const config = testConfig(stack.config.databaseUrl);
    const a = stack.kafka.admin();
    await a.connect();
    try {
      await a.createTopics({
        waitForLeaders: true,
        topics: [
          {
            topic: config.kafka.rawTopic,
            numPartitions: 1,
            configEntries: [
              { name: "max.message.bytes", value: "1048588" },
              { name: "retention.ms", value: "123456789" },
            ],
          },
        ],
      });
      await ensureTopics(stack.kafka, config);
      const d = await a.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: ConfigResourceTypes.TOPIC, name: config.kafka.rawTopic }],
      });
      const value = (name: string) => d.resources[0]!.configEntries.find((e) => e.configName === name)?.configValue;
      assert.equal(value("max.message.bytes"), String(config.kafka.maxMessageBytes));
      assert.equal(value("retention.ms"), "123456789");
    } finally {
      await a.deleteTopics({ topics: [config.kafka.rawTopic, config.kafka.deadLetterTopic] }).catch(() => {});
      await a.disconnect();
    }
  });
});
