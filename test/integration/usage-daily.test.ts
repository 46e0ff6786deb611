// Usage reads add up the daily rollup for a range's whole days and the events for the partial days
// at its ends. Randomized: calls of two consumers and unattributed ones over two weeks that cross a
// daylight-saving change in the billing time zone, read back over arbitrary ranges and groupings,
// always equal the same sums taken over the events alone; and the rollup stays the sum of the
// events after a repricing.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { Decimal } from "decimal.js";
import { Prisma } from "../../src/db/client.ts";
import { ROUTE_SQL, SUMS_OF_EVENTS } from "../../src/usage/usage-sums.ts";
import { usageOf, type GroupBy } from "../../src/usage/usage.service.ts";
import { usageEnvelope } from "../fixtures/kong-logs.ts";
import { meterEnvelopes } from "../helpers/billing.ts";
import { dailyMismatches } from "../helpers/pipeline-audit.ts";
import { admin, startStack, type Stack } from "../helpers/stack.ts";

const RUNS = Number(process.env.PROPERTY_RUNS ?? 4);
const TIME_ZONE = "America/New_York";
// 2026-03-08 has 23 hours there
const START = Date.parse("2026-03-01T00:00:00Z");
const SPAN_MINUTES = 14 * 24 * 60;
const MODELS = ["gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet"];
const ROUTES = ["chat", "embeddings", undefined];

let stack: Stack;
const people: Array<{ id: string; kongId: string; name: string }> = [];

before(async () => {
  stack = await startStack({ BILLING_TIMEZONE: TIME_ZONE }, { meter: false });
  for (let i = 0; i < 2; i++) {
    const kongId = randomUUID();
    const name = `daily-${i}-${kongId.slice(0, 8)}`;
    const res = await admin(stack, "POST", "/v1/consumers", {
      username: name,
      kong_id: kongId,
      metadata: { input_cost_per_token: "0.0000013", output_cost_per_token: "0.0000041" },
    });
    assert.equal(res.statusCode, 201, res.body);
    people.push({ id: res.json().id, kongId, name });
  }
});
after(() => stack.close());

type CallSpec = {
  who: number;
  minute: number;
  model: number;
  route: number;
  input: number;
  output: number;
  ok: boolean;
};

function envelope(c: CallSpec) {
  const who = people[c.who];
  return usageEnvelope({
    consumer: who ? { id: who.kongId, username: who.name } : null,
    at: START + c.minute * 60_000 + (c.input % 60) * 1000,
    input: c.input,
    output: c.output,
    model: MODELS[c.model],
    status: c.ok ? 200 : 500,
    routeName: ROUTES[c.route],
  });
}

const GROUP_SQL: Record<GroupBy, string> = {
  day: "to_char(local_date, 'YYYY-MM-DD')",
  model: "model",
  route: ROUTE_SQL,
};

/** The same figures straight from the events, as [key, calls, billable, input, output, cost, by type, flags]. */
async function fromEvents(consumerId: string | null, from: Date, to: Date, groupBy: GroupBy) {
  const who = consumerId === null ? Prisma.sql`consumer_id IS NULL` : Prisma.sql`consumer_id = ${consumerId}::uuid`;
  const rows = await stack.db.$queryRaw<Array<Record<string, string>>>`
    SELECT ${Prisma.raw(GROUP_SQL[groupBy])} AS key, ${Prisma.raw(SUMS_OF_EVENTS)} FROM usage_events
    WHERE ${who} AND occurred_at >= ${from} AND occurred_at < ${to} GROUP BY 1 ORDER BY 1`;
  return rows.map((r) =>
    Object.fromEntries(Object.entries(r).map(([k, v]) => [k, k === "key" ? v : new Decimal(v).toFixed()])),
  );
}

function flatten(groups: Awaited<ReturnType<typeof usageOf>>["groups"]) {
  return groups.map((g) => ({
    key: g.key,
    calls: String(g.calls),
    billable_calls: String(g.billable_calls),
    input_tokens: String(g.input_tokens),
    output_tokens: String(g.output_tokens),
    cost: new Decimal(g.cost).toFixed(),
    ...Object.fromEntries(
      Object.entries(g.by_token_type).flatMap(([t, v]) => [
        [`q_${t}`, String(v.tokens)],
        [`c_${t}`, new Decimal(v.cost).toFixed()],
      ]),
    ),
    ...Object.fromEntries(Object.entries(g.limit_flags).map(([f, n]) => [`flag_${f}`, String(n)])),
  }));
}

const callSpec = fc.record({
  who: fc.integer({ min: 0, max: 2 }), // 2: no consumer
  minute: fc.integer({ min: 0, max: SPAN_MINUTES }),
  model: fc.integer({ min: 0, max: MODELS.length - 1 }),
  route: fc.integer({ min: 0, max: ROUTES.length - 1 }),
  input: fc.integer({ min: 0, max: 50_000 }),
  output: fc.integer({ min: 0, max: 5_000 }),
  ok: fc.boolean(),
});
const range = fc.record({
  from: fc.integer({ min: -600, max: SPAN_MINUTES + 600 }),
  length: fc.integer({ min: 1, max: SPAN_MINUTES }),
  groupBy: fc.constantFrom<GroupBy>("day", "model", "route"),
});

describe("usage from the daily rollup", () => {
  it("any range and grouping reads the same sums as the events alone", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(callSpec, { minLength: 1, maxLength: 40 }),
        fc.array(range, { minLength: 1, maxLength: 6 }),
        async (calls, ranges) => {
          await meterEnvelopes(stack, calls.map(envelope));
          for (const r of ranges) {
            const from = new Date(START + r.from * 60_000);
            const to = new Date(from.getTime() + r.length * 60_000);
            for (const consumerId of [...people.map((p) => p.id), null]) {
              const read = await usageOf(stack.db, consumerId, from, to, r.groupBy, TIME_ZONE);
              assert.deepEqual(flatten(read.groups), await fromEvents(consumerId, from, to, r.groupBy));
            }
          }
        },
      ),
      { numRuns: RUNS, seed: Number(process.env.PROPERTY_SEED ?? 20261206) },
    );
    assert.deepEqual(await dailyMismatches(stack.db), []);
  });

  it("a repricing recomputes the days it touched", async () => {
    const p = people[0]!;
    const res = await admin(stack, "PATCH", `/v1/consumers/${p.name}`, {
      metadata: { input_cost_per_token: "0.0000027" },
      rates_effective_from: "2026-03-05T12:00:00Z",
    });
    assert.equal(res.statusCode, 200, res.body);
    const repriced = await stack.db.usageEvent.count({
      where: { consumerId: p.id, occurredAt: { gte: new Date("2026-03-05T12:00:00Z") }, billable: true },
    });
    assert.ok(repriced > 0, "the change reprices calls");
    assert.deepEqual(await dailyMismatches(stack.db), []);
  });
});
