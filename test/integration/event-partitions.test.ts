// usage_events by month: a call dated where no month is made yet waits in the default partition
// and moves into its month, whole, when the month is made; and reports of one call dated in two
// months, metered by two writers at once, are still one call.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { kongEventEnvelope, kongRequestId, usageEnvelope } from "../fixtures/kong-logs.ts";
import { meterEnvelopes, ratedConsumer } from "../helpers/billing.ts";
import { admin, startStack, type Stack } from "../helpers/stack.ts";
import { DEFAULT_PARTITION, makeMonth, partitionOf } from "../../src/usage/event-partitions.ts";

const ROUNDS = Number(process.env.PROPERTY_RUNS ?? 6) * 2;

let stack: Stack;
let c: Awaited<ReturnType<typeof ratedConsumer>>;

before(async () => {
  stack = await startStack({ BILLING_TIMEZONE: "UTC" }, { meter: false });
  c = await ratedConsumer(stack, "months");
});
after(() => stack.close());

const logReport = (rid: string, at: number) =>
  usageEnvelope({ consumer: { id: c.kongId, username: c.name }, at, input: 700, output: 40, requestId: rid });
const cloudEvent = (rid: string, at: number) => kongEventEnvelope({ requestId: rid, subject: c.name, at, tokens: 9 });

const storedWhere = async (id: string) =>
  (
    await stack.pool.query<{ part: string; reported_by: string[] }>(
      "SELECT tableoid::regclass::text AS part, reported_by FROM usage_events WHERE id = $1",
      [id],
    )
  ).rows;

describe("usage events by month", () => {
  it("a call dated in a month not made yet waits in the default partition and moves into its month, whole", async () => {
    const month = { year: 2031, month: 5 };
    const rid = kongRequestId();
    await meterEnvelopes(stack, [logReport(rid, Date.parse("2031-05-10T08:00:00Z"))]);
    assert.deepEqual(
      (await storedWhere(rid)).map((r) => r.part),
      [DEFAULT_PARTITION],
    );
    const explained = (await admin(stack, "GET", `/v1/events/${rid}`)).json();

    assert.equal(await makeMonth(stack.db, month), true);
    assert.equal(await makeMonth(stack.db, month), false, "a month is made once");
    assert.deepEqual(
      (await storedWhere(rid)).map((r) => r.part),
      [partitionOf(month)],
    );
    assert.deepEqual((await admin(stack, "GET", `/v1/events/${rid}`)).json(), explained, "the same call, as it was");

    // a later report of the call merges into it in its month
    await meterEnvelopes(stack, [cloudEvent(rid, Date.parse("2031-05-10T08:00:00Z"))]);
    const rows = await storedWhere(rid);
    assert.equal(rows.length, 1);
    assert.deepEqual(rows[0]!.reported_by.length, 2);
  });

  it("reports of one call dated in two months, metered by two writers at once, are one call", async () => {
    await makeMonth(stack.db, { year: 2026, month: 11 });
    await makeMonth(stack.db, { year: 2026, month: 12 });
    const before = await totals();
    for (let round = 0; round < ROUNDS; round++) {
      const rid = kongRequestId();
      const log = logReport(rid, Date.parse("2026-11-30T23:59:59.900Z"));
      const event = cloudEvent(rid, Date.parse("2026-12-01T00:00:00.100Z"));
      const writers = round % 2 ? [log, event] : [event, log];
      await Promise.all(writers.map((e) => meterEnvelopes(stack, [e])));
      const rows = await storedWhere(rid);
      assert.equal(rows.length, 1, `round ${round}: stored ${rows.length} times (${rows.map((r) => r.part)})`);
      assert.equal(rows[0]!.reported_by.length, 2, `round ${round}: both reports merged`);
    }
    const after = await totals();
    assert.equal(after.calls - before.calls, ROUNDS, "the consumer's totals count each call once");
  });
});

async function totals() {
  const { rows } = await stack.pool.query<{ calls: string }>(
    "SELECT calls::text FROM consumer_totals WHERE consumer_id = $1::uuid",
    [c.id],
  );
  return { calls: Number(rows[0]?.calls ?? 0) };
}
