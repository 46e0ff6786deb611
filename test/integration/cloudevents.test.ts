// Kong's metering-and-billing CloudEvents through the real pipeline: single and batch bodies,
// invalid and partly invalid batches, both subject forms, deduplication by (source, id), and one
// call reported by both http-log and CloudEvents billed once, whichever report comes first.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Decimal } from "decimal.js";
import { CHAT_REQUEST, CHAT_RESPONSE, kongLog, kongRequestId } from "../fixtures/kong-logs.ts";
import { aggregateMismatches } from "../helpers/pipeline-audit.ts";
import { admin, header, ingest, INGEST_SECRET, readTopic, startStack, type Stack } from "../helpers/stack.ts";
import { meterBatch } from "../../workers/meter/pipeline.ts";
import { waitFor } from "../helpers/wait.ts";

const RATES = { input_cost_per_token: "0.000000083", output_cost_per_token: "0.00000033" };
const SOURCE = "kong://cp/7f5c/node/1";
let stack: Stack;
let consumer: { name: string; kongId: string; id: string };

before(async () => {
  stack = await startStack({ BILLING_TIMEZONE: "UTC" });
  const kongId = randomUUID();
  const name = `ce-${kongId.slice(0, 8)}`;
  const res = await admin(stack, "POST", "/v1/consumers", { username: name, kong_id: kongId, metadata: RATES });
  assert.equal(res.statusCode, 201, res.body);
  consumer = { name, kongId, id: res.json().id };
});
after(() => stack.close());

function post(body: unknown, contentType: string) {
  return stack.app.inject({
    method: "POST",
    url: "/ingest/events",
    headers: { "content-type": contentType, authorization: `Bearer ${INGEST_SECRET}` },
    payload: typeof body === "string" ? body : JSON.stringify(body),
  });
}

type Ev = Record<string, unknown>;
const at = "2026-11-20T05:00:00Z";
const apiRequest = (rid: string, subject = consumer.name): Ev => ({
  specversion: "1.0",
  id: rid,
  source: SOURCE,
  type: "kong.api_request",
  subject,
  time: at,
  data: {
    request_method: "POST",
    request_uri: "/llama2/chat",
    response_http_status: 200,
    upstream_status: 200,
    route_name: "llama2-chat",
  },
});
const llm = (rid: string, type: "request" | "response", tokens: number, subject = consumer.name): Ev => ({
  specversion: "1.0",
  id: randomUUID(),
  source: SOURCE,
  type: "kong.llm_request",
  subject,
  time: at,
  data: { type, tokens, model: "gpt-4o", provider: "openai", api_request_id: rid, http_status: 200 },
});
const eventOf = (id: string) => stack.db.usageEvent.findFirst({ where: { id } });
const waitForEvent = (
  id: string,
  check: (e: NonNullable<Awaited<ReturnType<typeof eventOf>>>) => boolean,
  what: string,
) =>
  waitFor(
    async () => {
      const e = await eventOf(id);
      return e && check(e) ? e : undefined;
    },
    20_000,
    what,
  );
const cost = (input: number, output: number) =>
  new Decimal(input)
    .times(RATES.input_cost_per_token)
    .plus(new Decimal(output).times(RATES.output_cost_per_token))
    .toFixed();

describe("CloudEvents ingest", () => {
  it("one event as application/cloudevents+json with a charset parameter", async () => {
    const rid = kongRequestId();
    const res = await post(llm(rid, "request", 120), "application/cloudevents+json; charset=utf-8");
    assert.equal(res.statusCode, 202, res.body);
    assert.deepEqual(res.json(), { accepted: 1, rejected: [] });
    const e = await waitForEvent(rid, () => true, "the event metered");
    assert.deepEqual([e.consumerId, e.inputTokens, e.inputSource, e.model], [consumer.id, 120, "kong_event", "gpt-4o"]);
  });

  it("a batch: the three events of one AI call are one usage event", async () => {
    const rid = kongRequestId();
    const res = await post(
      [apiRequest(rid), llm(rid, "request", 300), llm(rid, "response", 45)],
      "application/cloudevents-batch+json",
    );
    assert.deepEqual(res.json(), { accepted: 3, rejected: [] });
    const e = await waitForEvent(rid, (x) => x.reportedBy.length === 3, "three reports merged");
    assert.deepEqual(
      [e.inputTokens, e.outputTokens, e.inputSource, e.outputSource, e.billable],
      [300, 45, "kong_event", "kong_event", true],
    );
    const route = await stack.db.callRoute.findUniqueOrThrow({ where: { id: e.callRouteId! } });
    assert.equal(route.routeName, "llama2-chat");
    assert.equal(new Decimal(e.cost.toFixed()).toFixed(), cost(300, 45));
    assert.equal(await stack.db.usageEvent.count({ where: { id: rid } }), 1);
  });

  it("application/json takes one event or an array", async () => {
    const rid = kongRequestId();
    assert.equal((await post(llm(rid, "request", 1), "application/json")).json().accepted, 1);
    assert.equal((await post([llm(rid, "response", 2)], "application/json")).json().accepted, 1);
    await waitForEvent(rid, (x) => x.outputTokens === 2 && x.inputTokens === 1, "both halves");
  });

  it("a partly invalid batch: good events accepted, bad ones listed by index with the field and dead-lettered", async () => {
    const rid = kongRequestId();
    const bad: Ev[] = [
      { ...llm(rid, "request", 5), specversion: "0.3" },
      (({ id: _, ...rest }) => rest)(llm(rid, "request", 5)),
      { ...llm(rid, "request", 5), time: "yesterday" },
      { ...llm(rid, "request", 5), type: "com.example.other" },
      { ...llm(rid, "request", 5), data: { type: "request", tokens: -3 } },
      { ...llm(rid, "request", 5), data: { type: "both", tokens: 3 } },
      (({ subject: _, ...rest }) => rest)(llm(rid, "request", 5)),
    ];
    const res = await post(
      [llm(rid, "request", 10), ...bad, llm(rid, "response", 20)],
      "application/cloudevents-batch+json",
    );
    assert.equal(res.statusCode, 202);
    const body = res.json();
    assert.equal(body.accepted, 2);
    assert.deepEqual(
      body.rejected.map((r: { index: number }) => r.index),
      [1, 2, 3, 4, 5, 6, 7],
    );
    const reasons: string[] = body.rejected.map((r: { reason: string }) => r.reason);
    for (const [i, field] of ["specversion", "id", "time", "type", "data.tokens", "data.type", "subject"].entries()) {
      assert.ok(reasons[i]!.startsWith(`${field}:`), `${field}: ${reasons[i]}`);
    }
    const letters = await readTopic(stack.kafka, stack.config.kafka.deadLetterTopic, 7);
    const ours = letters.filter(
      (m) => header(m, "tm-stage") === "ingest" && (header(m, "tm-kind") ?? "").startsWith("cloudevent"),
    );
    assert.ok(ours.length >= 7, `${ours.length} cloudevent dead letters`);
    await waitForEvent(rid, (x) => x.inputTokens === 10 && x.outputTokens === 20, "the good events metered");
  });

  it("a body unusable as a whole is 400; a content type that is not CloudEvents or JSON is 415", async () => {
    for (const [body, type] of [
      ["{not json", "application/cloudevents+json"],
      [[], "application/cloudevents-batch+json"],
      [[llm(kongRequestId(), "request", 1)], "application/cloudevents+json"],
      [llm(kongRequestId(), "request", 1), "application/cloudevents-batch+json"],
      ["", "application/json"],
    ] as const) {
      const res = await post(body as unknown, type);
      assert.equal(res.statusCode, 400, `${type} ${JSON.stringify(body).slice(0, 40)}: ${res.body}`);
      assert.equal(res.json().error.field, "body");
    }
    const wrong = await post(llm(kongRequestId(), "request", 1), "text/plain");
    assert.equal(wrong.statusCode, 415);
    assert.equal(wrong.json().error.field, "headers.content-type");
    const noSecret = await stack.app.inject({
      method: "POST",
      url: "/ingest/events",
      headers: { "content-type": "application/json" },
      payload: "{}",
    });
    assert.equal(noSecret.statusCode, 401);
  });

  it("both subject forms resolve to the same consumer; an unresolved subject is unattributed", async () => {
    const byUsername = kongRequestId();
    const byId = kongRequestId();
    const unknown = kongRequestId();
    await post(
      [
        llm(byUsername, "request", 7),
        llm(byId, "request", 8, `consumer:${consumer.kongId}`),
        llm(unknown, "request", 9, "unknown"),
      ],
      "application/cloudevents-batch+json",
    );
    const a = await waitForEvent(byUsername, () => true, "username subject");
    const b = await waitForEvent(byId, () => true, "consumer:<id> subject");
    const c = await waitForEvent(unknown, () => true, "unknown subject");
    assert.deepEqual([a.consumerId, b.consumerId, c.consumerId], [consumer.id, consumer.id, null]);
  });

  it("the same event posted twice is deduplicated by (source, id)", async () => {
    const rid = kongRequestId();
    const batch = [llm(rid, "request", 50), llm(rid, "response", 5)];
    await post(batch, "application/cloudevents-batch+json");
    await waitForEvent(rid, (x) => x.reportedBy.length === 2, "first delivery");
    const before = await stack.db.consumerTotal.findUniqueOrThrow({ where: { consumerId: consumer.id } });
    await post(batch, "application/cloudevents-batch+json");
    const marker = kongRequestId();
    await post(llm(marker, "request", 1), "application/json");
    await waitForEvent(marker, () => true, "a later event metered");
    const after = await stack.db.consumerTotal.findUniqueOrThrow({ where: { consumerId: consumer.id } });
    assert.equal(after.inputTokens - before.inputTokens, 1n, "only the marker's token");
    assert.equal(after.calls - before.calls, 1n);
  });
});

describe("one call, one event, whatever reports it", () => {
  const logOf = (rid: string) =>
    kongLog({
      requestId: rid,
      consumer: { id: consumer.kongId, username: consumer.name },
      startedAt: Date.parse(at),
      ai: {
        proxy: {
          usage: { prompt_tokens: 27, completion_tokens: 7 },
          meta: { request_model: "gpt-4o", response_model: "gpt-4o", provider_name: "openai" },
          payload: { request: JSON.stringify(CHAT_REQUEST), response: JSON.stringify(CHAT_RESPONSE) },
        },
      },
    });

  for (const order of ["http-log first", "CloudEvents first"] as const) {
    it(`${order}: billed once, from our count; every source's figures kept; aggregates follow`, async () => {
      const rid = kongRequestId();
      const before = await stack.db.consumerTotal.findUniqueOrThrow({ where: { consumerId: consumer.id } });
      const sendLog = async () => assert.equal((await ingest(stack, logOf(rid))).statusCode, 202);
      const sendEvents = async () =>
        assert.equal(
          (
            await post(
              [apiRequest(rid), llm(rid, "request", 25), llm(rid, "response", 9)],
              "application/cloudevents-batch+json",
            )
          ).statusCode,
          202,
        );
      if (order === "http-log first") {
        await sendLog();
        await waitForEvent(rid, () => true, "the http-log entry");
        await sendEvents();
      } else {
        await sendEvents();
        await waitForEvent(rid, (x) => x.reportedBy.length === 3, "the CloudEvents");
        await sendLog();
      }
      const e = await waitForEvent(rid, (x) => x.reportedBy.length === 4, "all four reports");
      assert.deepEqual([e.inputSource, e.outputSource], ["counted", "counted"]);
      assert.deepEqual((e.figures as { kong_event: unknown }).kong_event, { input: 25, output: 9 });
      assert.deepEqual([e.providerInputTokens, e.providerOutputTokens], [27, 7]);
      assert.equal(new Decimal(e.cost.toFixed()).toFixed(), cost(e.inputTokens, e.outputTokens));
      const after = await stack.db.consumerTotal.findUniqueOrThrow({ where: { consumerId: consumer.id } });
      assert.equal(after.calls - before.calls, 1n, "one call");
      assert.equal(after.inputTokens - before.inputTokens, BigInt(e.inputTokens));
      assert.equal(
        new Decimal(after.cost.toFixed()).minus(before.cost.toFixed()).toFixed(),
        new Decimal(e.cost.toFixed()).toFixed(),
      );
      assert.deepEqual(await aggregateMismatches(stack.db), []);
    });
  }
});

describe("a later report cannot rewrite a call", () => {
  const logOf = (rid: string, status = 200) =>
    kongLog({
      requestId: rid,
      status,
      consumer: { id: consumer.kongId, username: consumer.name },
      startedAt: Date.parse(at),
      ai: {
        proxy: {
          usage: { prompt_tokens: 27, completion_tokens: 7 },
          meta: { request_model: "gpt-4o", response_model: "gpt-4o", provider_name: "openai" },
          payload: { request: JSON.stringify(CHAT_REQUEST), response: JSON.stringify(CHAT_RESPONSE) },
        },
      },
    });

  it("a report naming another consumer is dead-lettered with both consumers, and the call stays as it was", async () => {
    const otherKong = randomUUID();
    const other = `ce-other-${otherKong.slice(0, 8)}`;
    assert.equal(
      (await admin(stack, "POST", "/v1/consumers", { username: other, kong_id: otherKong, metadata: RATES }))
        .statusCode,
      201,
    );
    const rid = kongRequestId();
    assert.equal((await ingest(stack, logOf(rid))).statusCode, 202);
    const before = await waitForEvent(rid, () => true, "the http-log entry");
    assert.equal(
      (await post([apiRequest(rid, other), llm(rid, "response", 90_000, other)], "application/cloudevents-batch+json"))
        .statusCode,
      202,
    );
    const letters = await waitFor(
      async () => {
        const rows = await stack.db.deadLetter.findMany({ where: { eventId: rid, kind: "report_conflict" } });
        return rows.length === 2 ? rows : undefined;
      },
      20_000,
      "both reports dead-lettered",
    );
    assert.match(letters[0]!.reason, new RegExp(`belongs to ${consumer.id}`));
    const afterIt = await eventOf(rid);
    assert.deepEqual(
      [afterIt!.consumerId, afterIt!.outputTokens, afterIt!.cost.toFixed(), afterIt!.reportedBy],
      [before.consumerId, before.outputTokens, before.cost.toFixed(), ["http-log"]],
    );
    assert.deepEqual(await aggregateMismatches(stack.db), []);
  });

  it("a CloudEvent after the log changes neither figures nor billable status; the log after CloudEvents takes over", async () => {
    const rid = kongRequestId();
    assert.equal((await ingest(stack, logOf(rid))).statusCode, 202);
    const logged = await waitForEvent(rid, () => true, "the http-log entry");
    const failed = {
      ...apiRequest(rid),
      data: { ...(apiRequest(rid).data as object), response_http_status: 500, upstream_status: 500 },
    };
    assert.equal(
      (await post([failed, llm(rid, "request", 1), llm(rid, "response", 1)], "application/cloudevents-batch+json"))
        .statusCode,
      202,
    );
    const merged = await waitForEvent(rid, (x) => x.reportedBy.length === 4, "the CloudEvents merged");
    assert.deepEqual(
      [merged.billable, merged.status, merged.inputTokens, merged.outputTokens, merged.cost.toFixed()],
      [true, 200, logged.inputTokens, logged.outputTokens, logged.cost.toFixed()],
    );

    // between CloudEvents alone, the first decides: a later one reporting a failure does not make the call free
    const ceOnly = kongRequestId();
    assert.equal(
      (
        await post(
          [apiRequest(ceOnly), llm(ceOnly, "request", 40), llm(ceOnly, "response", 60)],
          "application/cloudevents-batch+json",
        )
      ).statusCode,
      202,
    );
    const first = await waitForEvent(ceOnly, (x) => x.reportedBy.length === 3, "the first CloudEvents");
    const refusal = { ...failed, id: randomUUID(), data: { ...(failed.data as object), api_request_id: ceOnly } };
    assert.equal(
      (await post([refusal, llm(ceOnly, "response", 1)], "application/cloudevents-batch+json")).statusCode,
      202,
    );
    const later = await waitForEvent(ceOnly, (x) => x.reportedBy.length === 5, "the later CloudEvents merged");
    assert.deepEqual(
      [later.billable, later.outputTokens, later.cost.toFixed()],
      [true, first.outputTokens, first.cost.toFixed()],
    );

    const second = kongRequestId();
    assert.equal(
      (await post([{ ...failed, id: second }, llm(second, "response", 5)], "application/cloudevents-batch+json"))
        .statusCode,
      202,
    );
    await waitForEvent(second, (x) => x.reportedBy.length === 2, "the CloudEvents");
    assert.equal((await ingest(stack, logOf(second))).statusCode, 202);
    const byLog = await waitForEvent(second, (x) => x.reportedBy.includes("http-log"), "the log merged");
    assert.deepEqual(
      [byLog.billable, byLog.status, byLog.inputSource],
      [true, 200, "counted"],
      "the gateway's own log outranks the events",
    );
    assert.deepEqual(await aggregateMismatches(stack.db), []);
  });

  it("reports of one call in one chunk go in as one event; one naming another consumer is dead-lettered there too", async () => {
    const otherKong = randomUUID();
    const other = `ce-chunk-${otherKong.slice(0, 8)}`;
    assert.equal(
      (await admin(stack, "POST", "/v1/consumers", { username: other, kong_id: otherKong, metadata: RATES }))
        .statusCode,
      201,
    );
    const rid = kongRequestId();
    const envelope = (body: Record<string, unknown>) => ({ v: 1, id: rid, receivedAt: at, ...body });
    const chunk = [
      envelope({ source: "kong-cloudevents", event: apiRequest(rid) }),
      envelope({ source: "kong-http-log", log: logOf(rid) }),
      envelope({ source: "kong-cloudevents", event: llm(rid, "response", 70_000, other) }),
      envelope({ source: "kong-cloudevents", event: llm(rid, "request", 25) }),
    ].map((e, i) => ({ value: Buffer.from(JSON.stringify(e)), offset: String(i), partition: 0, topic: "direct" }));
    const result = await meterBatch(chunk, { db: stack.db, pool: stack.pool, config: stack.config });
    assert.deepEqual([result.metered.length, result.merged], [1, 2], "one event, two reports merged into it in memory");
    assert.deepEqual(
      result.deadLetters.map((d) => d.kind),
      ["report_conflict"],
    );
    const e = (await eventOf(rid))!;
    assert.equal(e.consumerId, consumer.id);
    assert.equal(e.reportedBy.length, 3);
    assert.equal(
      e.inputSource,
      "counted",
      "the http-log entry outranks the CloudEvent that came before it in the chunk",
    );
    assert.deepEqual(await aggregateMismatches(stack.db), []);
  });
});
