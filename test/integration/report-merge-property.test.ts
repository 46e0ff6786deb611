// Property: however a call's reports arrive (http-log and CloudEvents in any order, in any batches,
// some delivered twice), the call is one usage event with the same figures, billed once, and every
// TDL cell and total is still the sum of its events.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { CHAT_REQUEST, CHAT_RESPONSE, kongLog, kongRequestId } from "../fixtures/kong-logs.ts";
import { meterEnvelopes } from "../helpers/billing.ts";
import { aggregateMismatches } from "../helpers/pipeline-audit.ts";
import { admin, startStack, type Stack } from "../helpers/stack.ts";

const runs = Number(process.env.PROPERTY_RUNS ?? 15);
let stack: Stack;
const kongId = randomUUID();
const name = `merge-${kongId.slice(0, 8)}`;

before(async () => {
  stack = await startStack({ BILLING_TIMEZONE: "UTC" }, { meter: false });
  const res = await admin(stack, "POST", "/v1/consumers", {
    username: name,
    kong_id: kongId,
    metadata: { input_cost_per_token: "0.000001", output_cost_per_token: "0.000003" },
  });
  assert.equal(res.statusCode, 201, res.body);
});
after(() => stack.close());

type Envelope = Record<string, unknown>;

/** Every report one call can have; which of them are sent is drawn. */
function reportsOf(rid: string, at: number, tokens: { input: number; output: number }, withPayload: boolean) {
  const time = new Date(at).toISOString();
  const env = (source: string, body: Envelope): Envelope => ({
    v: 1,
    id: rid,
    source,
    receivedAt: time,
    ...(source === "kong-http-log" ? { log: body } : { event: body }),
  });
  const ce = (id: string, type: string, data: Envelope) =>
    env("kong-cloudevents", { specversion: "1.0", id, source: "kong://cp/1", type, subject: name, time, data });
  const proxy = {
    usage: { prompt_tokens: tokens.input, completion_tokens: tokens.output },
    meta: { request_model: "gpt-4o", response_model: "gpt-4o" },
  };
  return {
    log: env(
      "kong-http-log",
      kongLog({
        requestId: rid,
        consumer: { id: kongId, username: name },
        startedAt: at,
        ai: {
          proxy: withPayload
            ? { ...proxy, payload: { request: JSON.stringify(CHAT_REQUEST), response: JSON.stringify(CHAT_RESPONSE) } }
            : proxy,
        },
      }),
    ),
    api: ce(rid, "kong.api_request", { response_http_status: 200, upstream_status: 200 }),
    request: ce(`${rid}-in`, "kong.llm_request", {
      type: "request",
      tokens: tokens.input + 3,
      model: "gpt-4o",
      api_request_id: rid,
    }),
    response: ce(`${rid}-out`, "kong.llm_request", {
      type: "response",
      tokens: tokens.output,
      model: "gpt-4o",
      api_request_id: rid,
    }),
  };
}

const callArb = fc.record({
  input: fc.integer({ min: 1, max: 5000 }),
  output: fc.integer({ min: 0, max: 2000 }),
  withPayload: fc.boolean(),
  sent: fc.subarray(["log", "api", "request", "response"] as const, { minLength: 1 }),
  repeats: fc.array(fc.nat(), { maxLength: 3 }),
  seed: fc.nat(),
  cuts: fc.array(fc.nat(), { maxLength: 3 }),
});

/** The event as the comparison sees it: order of reports does not matter, nor the call's own id. */
const view = (e: Record<string, unknown>) => ({
  ...Object.fromEntries(
    [
      "consumerId",
      "model",
      "billable",
      "inputTokens",
      "outputTokens",
      "inputSource",
      "outputSource",
      "level",
      "slot",
      "anomalies",
      "figures",
    ].map((k) => [k, e[k]]),
  ),
  reportedBy: (e.reportedBy as string[]).map((r) => r.replaceAll(e.id as string, "<call>")).sort(),
  cost: String(e.cost),
});

describe("merging reports of one call", () => {
  it("gives the same event whatever the order, batching and duplicates", async () => {
    let at = Date.parse("2026-11-02T00:00:00Z");
    await fc.assert(
      fc.asyncProperty(callArb, async (c) => {
        at += 3_600_000;
        const tokens = { input: c.input, output: c.output };
        // reference: the same reports, one at a time, in a fixed order
        const refId = kongRequestId();
        const ref = reportsOf(refId, at, tokens, c.withPayload);
        for (const k of c.sent) await meterEnvelopes(stack, [ref[k]]);
        // under test: shuffled, some sent twice, cut into batches
        const rid = kongRequestId();
        const mine = reportsOf(rid, at, tokens, c.withPayload);
        const list = [...c.sent.map((k) => mine[k]), ...c.repeats.map((i) => mine[c.sent[i % c.sent.length]!])];
        const shuffled = list
          .map((x, i) => [((c.seed + 1) * (i + 7)) % 97, x] as const)
          .sort((a, b) => a[0] - b[0])
          .map(([, x]) => x);
        const cuts = [...new Set(c.cuts.map((n) => n % (shuffled.length + 1)))].sort((a, b) => a - b);
        let from = 0;
        for (const cut of [...cuts, shuffled.length]) {
          if (cut > from) await meterEnvelopes(stack, shuffled.slice(from, cut));
          from = Math.max(from, cut);
        }
        const [a, b] = await Promise.all([
          stack.db.usageEvent.findFirstOrThrow({ where: { id: refId } }),
          stack.db.usageEvent.findFirstOrThrow({ where: { id: rid } }),
        ]);
        assert.deepEqual(view(b), view(a));
        assert.equal(b.reportedBy.length, c.sent.length);
      }),
      { numRuns: runs },
    );
    assert.deepEqual(await aggregateMismatches(stack.db), []);
    const total = await stack.db.consumerTotal.findFirstOrThrow({ where: { consumer: { username: name } } });
    assert.equal(
      Number(total.calls),
      await stack.db.usageEvent.count({ where: { consumer: { username: name } } }),
      "each call counted once",
    );
  });
});
