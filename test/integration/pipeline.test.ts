// Kong log -> ingest -> Kafka -> meter -> PostgreSQL -> usage API, all real.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Decimal } from "../../src/domain/money.ts";
import { localSlotOf, levelOf } from "../../src/domain/tdl.ts";
import { partitionKeyOf } from "../../src/domain/usage-event.ts";
import { get_encoding } from "tiktoken";
import { CHAT_REQUEST, CHAT_RESPONSE, kong401, kongLog } from "../fixtures/kong-logs.ts";
import { admin, header, ingest, readTopic, startStack, type Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

const NO_FLAGS = {
  capability_not_granted: 0,
  input_tokens_over_limit: 0,
  output_tokens_over_limit: 0,
  tdl_limit_exceeded: 0,
};
/** Usage by token type of calls with plain input and output only. */
const plainTypes = (input: number, output: number, inputCost: string, outputCost: string) => ({
  input: { tokens: input, cost: inputCost },
  cached_input: { tokens: 0, cost: "0" },
  cache_write: { tokens: 0, cost: "0" },
  output: { tokens: output, cost: outputCost },
  reasoning: { tokens: 0, cost: "0" },
});
const SEED_RATES = { input_cost_per_token: "0.000000083", output_cost_per_token: "0.00000033" };
let stack: Stack;

before(async () => {
  // one read of everything metered, whenever the test runs
  stack = await startStack({ BILLING_TIMEZONE: "Asia/Seoul", USAGE_MAX_SPAN_DAYS: "4000" });
});
after(() => stack.close());

async function createConsumer(extra: Record<string, unknown> = {}) {
  const kongId = randomUUID();
  const res = await admin(stack, "POST", "/v1/consumers", {
    username: `user-${kongId.slice(0, 8)}`,
    kong_id: kongId,
    metadata: { id: "kt-llama3-1", provider_name: "kt", ...SEED_RATES },
    ...extra,
  });
  assert.equal(res.statusCode, 201, res.body);
  return { kongId, id: res.json().id as string };
}

async function usage(consumerId: string, groupBy = "day") {
  const res = await admin(
    stack,
    "GET",
    `/v1/consumers/${consumerId}/usage?from=2020-01-01T00:00:00Z&to=2030-01-01T00:00:00Z&group_by=${groupBy}`,
  );
  assert.equal(res.statusCode, 200, res.body);
  return res.json();
}

const waitForCalls = (consumerId: string, calls: number) =>
  waitFor(
    async () => {
      const u = await usage(consumerId);
      return u.totals.calls >= calls ? u : undefined;
    },
    15_000,
    `${calls} calls of ${consumerId}`,
  );

// The expected counts, computed here with tiktoken directly (OpenAI's chat recipe).
function expectedTokens() {
  const enc = get_encoding("o200k_base"); // the reference, not the product's counter
  const input = CHAT_REQUEST.messages.reduce(
    (s, m) => s + 3 + enc.encode_ordinary(m.role).length + enc.encode_ordinary(m.content).length,
    3,
  );
  const output = enc.encode_ordinary(CHAT_RESPONSE.choices[0]!.message.content).length;
  return { input, output };
}

describe("metering pipeline", () => {
  it("a single log becomes visible as tokens, exact cost and a TDL cell", async () => {
    const c = await createConsumer();
    const startedAt = Date.parse("2026-11-24T03:10:00Z"); // 12:10 in Seoul: slot T7
    const res = await ingest(stack, kongLog({ consumer: { id: c.kongId, username: "llama2-client" }, startedAt }));
    assert.equal(res.statusCode, 202, res.body);
    assert.deepEqual(res.json(), { accepted: 1, rejected: [] });

    const u = await waitForCalls(c.id, 1);
    const { input, output } = expectedTokens();
    const cost = new Decimal(input).times("0.000000083").plus(new Decimal(output).times("0.00000033"));
    const byType = plainTypes(
      input,
      output,
      new Decimal(input).times("0.000000083").toFixed(),
      new Decimal(output).times("0.00000033").toFixed(),
    );
    assert.deepEqual(u.totals, {
      calls: 1,
      billable_calls: 1,
      input_tokens: input,
      output_tokens: output,
      cost: cost.toFixed(),
      by_token_type: byType,
      limit_flags: NO_FLAGS,
    });
    assert.equal(u.groups[0].key, "2026-11-24");

    const byModel = await usage(c.id, "model");
    assert.deepEqual(
      byModel.groups.map((g: { key: string }) => g.key),
      ["gpt-4o-2024-08-06"],
    );

    const m = await admin(stack, "GET", `/v1/consumers/${c.id}/tdl-matrix?date=2026-11-24`);
    assert.equal(m.statusCode, 200);
    const { slot } = localSlotOf(new Date(startedAt), "Asia/Seoul");
    assert.equal(slot, 6);
    const row = Array(10).fill(0);
    row[levelOf(input, [256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536])] = 1;
    assert.deepEqual(m.json().tdl_matrix.T7, row);
    assert.equal(
      Object.values(m.json().tdl_matrix)
        .flat()
        .reduce((a: number, b) => a + (b as number), 0),
      1,
    );

    const event = await stack.db.usageEvent.findFirstOrThrow({ where: { consumerId: c.id } });
    assert.equal(event.inputSource, "counted");
    assert.equal(event.providerInputTokens, 27);
    assert.equal(event.inputCostPerToken?.toFixed(), "0.000000083");
    assert.equal(event.encoding, "o200k_base");
  });

  it("a batch (JSON array) is metered entry by entry", async () => {
    const c = await createConsumer();
    const batch = Array.from({ length: 5 }, () => kongLog({ consumer: { id: c.kongId } }));
    const res = await ingest(stack, batch);
    assert.deepEqual(res.json(), { accepted: 5, rejected: [] });
    const u = await waitForCalls(c.id, 5);
    assert.equal(u.totals.calls, 5);
  });

  it("the same batch posted twice is counted once", async () => {
    const c = await createConsumer();
    const batch = [kongLog({ consumer: { id: c.kongId } }), kongLog({ consumer: { id: c.kongId }, requestId: null })];
    assert.equal((await ingest(stack, batch)).statusCode, 202);
    await waitForCalls(c.id, 2);
    assert.equal((await ingest(stack, batch)).statusCode, 202);
    // a marker posted after the duplicate: once it is metered, the duplicate has been processed too
    // (same consumer, so same partition, in order)
    assert.equal((await ingest(stack, kongLog({ consumer: { id: c.kongId } }))).statusCode, 202);
    const u = await waitForCalls(c.id, 3);
    assert.equal(u.totals.calls, 3);
    const totals = await stack.db.consumerTotal.findUniqueOrThrow({ where: { consumerId: c.id } });
    assert.equal(totals.calls, 3n);
  });

  it("a body that is not JSON gets 400 and nothing is metered", async () => {
    const before = await stack.db.usageEvent.count();
    const res = await ingest(stack, '{"request": {"id": "abc"');
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.field, "body");
    assert.match(res.json().error.message, /not valid JSON/);
    assert.equal((await ingest(stack, "")).statusCode, 400);
    assert.equal(await stack.db.usageEvent.count(), before);
  });

  it("a batch with unusable entries: 2xx, good ones counted, bad ones dead-lettered with index and reason", async () => {
    const c = await createConsumer();
    const good = [kongLog({ consumer: { id: c.kongId } }), kongLog({ consumer: { id: c.kongId } })];
    const res = await ingest(stack, [good[0], 42, { request: {}, started_at: 1 }, good[1]]);
    assert.equal(res.statusCode, 202);
    assert.deepEqual(res.json(), {
      accepted: 2,
      rejected: [
        { index: 1, reason: "entry is not a JSON object" },
        { index: 2, reason: "response: missing or not an object" },
      ],
    });
    await waitForCalls(c.id, 2);
    const letters = await readTopic(stack.kafka, stack.config.kafka.deadLetterTopic, 2);
    const ours = letters.filter(
      (m) => header(m, "tm-stage") === "ingest" && ["1", "2"].includes(header(m, "tm-index") ?? ""),
    );
    assert.deepEqual(ours.map((m) => [header(m, "tm-index"), header(m, "tm-reason"), m.value?.toString()]).sort(), [
      ["1", "entry is not a JSON object", "42"],
      ["2", "response: missing or not an object", '{"request":{},"started_at":1}'],
    ]);
  });

  it("an entry that only fails in the worker is dead-lettered and the rest of its batch counted", async () => {
    const c = await createConsumer();
    const bad = kongLog({ consumer: { id: c.kongId }, startedAt: 12345 }); // seconds-like clock: not epoch ms
    const res = await ingest(stack, [
      kongLog({ consumer: { id: c.kongId } }),
      bad,
      kongLog({ consumer: { id: c.kongId } }),
    ]);
    assert.deepEqual(res.json(), { accepted: 3, rejected: [] });
    await waitForCalls(c.id, 2);
    const badId = (bad.request as { id: string }).id;
    const letter = await waitFor(
      async () => {
        const all = await readTopic(stack.kafka, stack.config.kafka.deadLetterTopic, 1);
        return all.find((m) => header(m, "tm-stage") === "meter" && m.value?.toString().includes(badId));
      },
      15_000,
      "the meter's dead letter",
    );
    assert.match(header(letter, "tm-reason") ?? "", /started_at: must be epoch milliseconds after 2000/);
    assert.equal(header(letter, "tm-source-topic"), stack.config.kafka.rawTopic);
    assert.equal(JSON.parse(letter.value!.toString()).log.started_at, 12345, "the original bytes are kept");
    assert.equal((await usage(c.id)).totals.calls, 2);
  });

  it("a garbage message on the raw topic is dead-lettered without stopping the meter", async () => {
    const c = await createConsumer();
    await stack.producer.send([
      { topic: stack.config.kafka.rawTopic, messages: [{ key: c.kongId, value: "not json at all" }] },
    ]);
    await ingest(stack, kongLog({ consumer: { id: c.kongId } }));
    await waitForCalls(c.id, 1);
    const letter = await waitFor(
      async () =>
        (await readTopic(stack.kafka, stack.config.kafka.deadLetterTopic, 1)).find(
          (m) => m.value?.toString() === "not json at all",
        ),
      15_000,
      "garbage dead letter",
    );
    assert.match(header(letter, "tm-reason") ?? "", /message is not JSON/);
    assert.equal(header(letter, "tm-stage"), "meter");
  });

  it("client-sent x-consumer-* headers on an unauthenticated request never attribute usage", async () => {
    const c = await createConsumer();
    const forged = kong401({ clientHeaders: { "x-consumer-id": c.kongId, "x-consumer-username": "llama2-client" } });
    // and a log without consumer that still reached an upstream (a route with no auth)
    const open = kongLog({ consumer: null });
    (open.request as { headers: Record<string, string> }).headers["x-consumer-id"] = c.kongId;
    const before = (
      await admin(stack, "GET", "/v1/usage/unattributed?from=2020-01-01T00:00:00Z&to=2030-01-01T00:00:00Z")
    ).json().totals.calls;
    assert.equal((await ingest(stack, [forged, open])).statusCode, 202);
    await waitFor(
      async () =>
        (await admin(stack, "GET", "/v1/usage/unattributed?from=2020-01-01T00:00:00Z&to=2030-01-01T00:00:00Z")).json()
          .totals.calls >=
        before + 2,
      15_000,
      "unattributed usage",
    );
    assert.equal((await usage(c.id)).totals.calls, 0);
    assert.equal(await stack.db.consumer.count({ where: { kongId: c.kongId } }), 1);
  });

  it("a consumer Kong knows but tokenmeter does not is registered unconfigured with default rates", async () => {
    const kongId = randomUUID();
    await ingest(stack, kongLog({ consumer: { id: kongId, username: `new-${kongId.slice(0, 6)}` } }));
    const consumer = await waitFor(
      () => stack.db.consumer.findUnique({ where: { kongId } }).then((c) => c ?? undefined),
      15_000,
      "registration",
    );
    assert.equal(consumer.configured, false);
    const list = await admin(stack, "GET", "/v1/consumers?configured=false");
    assert.ok(list.json().consumers.some((c: { kong_id: string }) => c.kong_id === kongId));
    assert.equal((await waitForCalls(consumer.id, 1)).totals.cost, "0");
  });

  it("a provider 429 is kept as a non-billable event: no cost, no TDL cell", async () => {
    const c = await createConsumer();
    const failed = kongLog({
      consumer: { id: c.kongId },
      status: 429,
      responseBody: { error: { message: "Rate limit reached" } },
    });
    await ingest(stack, failed);
    const u = await waitForCalls(c.id, 1);
    assert.deepEqual(u.totals, {
      calls: 1,
      billable_calls: 0,
      input_tokens: 0,
      output_tokens: 0,
      cost: "0",
      by_token_type: plainTypes(0, 0, "0", "0"),
      limit_flags: NO_FLAGS,
    });
    const event = await stack.db.usageEvent.findFirstOrThrow({ where: { consumerId: c.id } });
    assert.equal(event.billable, false);
    assert.ok(event.inputTokens > 0, "the estimated prompt tokens are kept");
    assert.equal(await stack.db.tdlCell.count({ where: { consumerId: c.id } }), 0);
  });

  it("credentials are redacted before the log reaches Kafka", async () => {
    const c = await createConsumer();
    const entry = kongLog({ consumer: { id: c.kongId } });
    await ingest(stack, entry);
    await waitForCalls(c.id, 1);
    const id = (entry.request as { id: string }).id;
    const raw = await waitFor(
      async () =>
        (await readTopic(stack.kafka, stack.config.kafka.rawTopic, 1)).find((m) => m.value?.toString().includes(id)),
      15_000,
      "raw message",
    );
    assert.ok(!raw.value!.toString().includes("llama2-secret-key-12345"));
    assert.equal(raw.key?.toString(), partitionKeyOf({ consumer: { id: c.kongId } }), "keyed by the Kong consumer");
  });

  it("ingest without the shared secret is 401 and nothing is produced", async () => {
    const res = await stack.app.inject({
      method: "POST",
      url: "/ingest/kong",
      payload: kongLog(),
      headers: { "content-type": "application/json" },
    });
    assert.equal(res.statusCode, 401);
    assert.equal(res.json().error.code, "unauthorized");
    const wrong = await ingest(stack, kongLog(), { authorization: "Bearer nope" });
    assert.equal(wrong.statusCode, 401);
  });

  it("a multimodal call is billed from the provider's figure, our lower bound kept on the event", async () => {
    const c = await createConsumer();
    const request = {
      model: "gpt-4o",
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "What is in this picture?" },
            { type: "image_url", image_url: { url: "https://example.com/cat.png", detail: "high" } },
          ],
        },
      ],
    };
    const response = {
      id: "chatcmpl-9",
      created: 1,
      object: "chat.completion",
      model: "gpt-4o",
      choices: [{ index: 0, message: { role: "assistant", content: "A cat." }, finish_reason: "stop" }],
    };
    const ai = {
      proxy: {
        usage: { prompt_tokens: 1118, completion_tokens: 3, total_tokens: 1121 },
        meta: { request_model: "gpt-4o", response_model: "gpt-4o", provider_name: "openai" },
        payload: { request: JSON.stringify(request), response: JSON.stringify(response) },
      },
    };
    const requestId = randomUUID().replaceAll("-", "");
    assert.equal((await ingest(stack, kongLog({ consumer: { id: c.kongId }, requestId, ai }))).statusCode, 202);
    await waitForCalls(c.id, 1);
    const e = await stack.db.usageEvent.findFirstOrThrow({ where: { id: requestId } });
    assert.deepEqual([e.inputSource, e.inputTokens, e.outputSource, e.outputTokens], ["provider", 1118, "counted", 3]);
    const counted = (
      e.figures as { counted: { input: number; input_lower_bound: boolean; input_parts_estimate: number } }
    ).counted;
    assert.deepEqual([counted.input_lower_bound, counted.input_parts_estimate], [true, 1445]);
    assert.ok(e.countedInputTokens !== null && e.countedInputTokens < 30, "our count saw the text alone");
    assert.deepEqual(e.anomalies, []);
  });
});
