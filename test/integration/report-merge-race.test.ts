// A call another writer stores between this chunk's lock and its write (two meters during a
// rebalance) is merged into, never overwritten and never skipped.
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { kongEventEnvelope, kongRequestId, usageEnvelope } from "../fixtures/kong-logs.ts";
import { meterEnvelopes, ratedConsumer } from "../helpers/billing.ts";
import { startStack, type Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

let stack: Stack;
let c: Awaited<ReturnType<typeof ratedConsumer>>;

before(async () => {
  stack = await startStack({ BILLING_TIMEZONE: "UTC" }, { meter: false });
  c = await ratedConsumer(stack, "race");
});
after(() => stack.close());

const at = Date.parse("2026-11-03T10:00:00Z");
const logReport = (rid: string) =>
  usageEnvelope({ consumer: { id: c.kongId, username: c.name }, at, input: 700, output: 40, requestId: rid });
const cloudEvent = (rid: string) => kongEventEnvelope({ requestId: rid, subject: c.name, at, tokens: 9 });

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
