// A call another writer stores between this chunk's lock and its write (two meters during a
// rebalance) is merged into, never overwritten and never skipped.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, it } from "node:test";
import { kongLog, kongRequestId } from "../fixtures/kong-logs.ts";
import { meterEnvelopes } from "../helpers/billing.ts";
import { admin, startStack, type Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

let stack: Stack;
const kongId = randomUUID();
const name = `race-${kongId.slice(0, 8)}`;

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

const at = Date.parse("2026-11-03T10:00:00Z");
const logReport = (rid: string) => ({
  v: 1,
  id: rid,
  source: "kong-http-log",
  receivedAt: new Date(at).toISOString(),
  log: kongLog({
    requestId: rid,
    consumer: { id: kongId, username: name },
    startedAt: at,
    ai: {
      proxy: {
        usage: { prompt_tokens: 700, completion_tokens: 40 },
        meta: { request_model: "gpt-4o", response_model: "gpt-4o" },
      },
    },
  }),
});
const cloudEvent = (rid: string) => ({
  v: 1,
  id: rid,
  source: "kong-cloudevents",
  receivedAt: new Date(at).toISOString(),
  event: {
    specversion: "1.0",
    id: `${rid}-in`,
    source: "kong://cp/1",
    type: "kong.llm_request",
    subject: name,
    time: new Date(at).toISOString(),
    data: { type: "request", tokens: 9, model: "gpt-4o" },
  },
});

it("a call stored by another writer after the lock is merged into in a second round", async () => {
  const model = kongRequestId();
  await meterEnvelopes(stack, [logReport(model)]);
  const rid = kongRequestId();
  // the other writer: the call's http-log report, inserted and not yet committed
  const other = await stack.pool.connect();
  try {
    await other.query("BEGIN");
    await other.query(
      `INSERT INTO usage_events SELECT (jsonb_populate_record(NULL::usage_events, to_jsonb(e) || jsonb_build_object('id', $2::text))).* FROM usage_events e WHERE e.id = $1`,
      [model, rid],
    );
    const metering = meterEnvelopes(stack, [cloudEvent(rid)]);
    // the chunk found no stored call and now waits on the other writer's row
    await waitFor(async () => {
      const { rows } = await stack.pool.query(
        "SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%INSERT INTO usage_events%'",
      );
      return rows[0].n > 0;
    });
    await other.query("COMMIT");
    const result = await metering;
    assert.equal(result.metered.length, 0, "nothing inserted: the call was stored by the other writer");
    assert.equal(result.merged, 1, "the CloudEvent was merged into the stored call");
  } finally {
    other.release();
  }
  const stored = await stack.db.usageEvent.findFirstOrThrow({ where: { id: rid } });
  assert.ok(
    stored.reportedBy.includes("http-log") && stored.reportedBy.length === 2,
    `both reports merged: ${stored.reportedBy.join(", ")}`,
  );
  assert.equal(stored.inputTokens, 700, "the log's figure stands: the CloudEvent did not overwrite the row");
  assert.equal(
    (stored.figures as { kong_event?: { input?: number } }).kong_event?.input,
    9,
    "the CloudEvent's figure is kept",
  );
});
