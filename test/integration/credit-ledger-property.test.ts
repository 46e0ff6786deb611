// Property: whatever grants (priorities, expiries) a consumer gets and however its calls are
// reported (redelivered, late, a later report changing the cost), the meter's credit ledger in
// PostgreSQL equals a decimal reference that replays the same calls through the burn rules, and
// the balance is the ledger's sum.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { creditedByCall, expireDue, settleCall, type GrantState, type Movement } from "../../src/credits/burn.ts";
import { Decimal, ZERO } from "../../src/domain/money.ts";
import { kongLog, kongRequestId } from "../fixtures/kong-logs.ts";
import { meterEnvelopes } from "../helpers/billing.ts";
import { admin, startStack, type Stack } from "../helpers/stack.ts";

const runs = Number(process.env.PROPERTY_RUNS ?? 8);
let stack: Stack;
before(async () => {
  stack = await startStack({ BILLING_TIMEZONE: "UTC" }, { meter: false });
});
after(() => stack.close());

const MINUTE = 60_000;
const grantArb = fc.record({
  micro: fc.integer({ min: 1, max: 3_000 }),
  priority: fc.integer({ min: 0, max: 2 }),
  // starts up to 50 minutes ago; some have expired already, some expire later
  startedMinutesAgo: fc.integer({ min: 1, max: 50 }),
  lifeMinutes: fc.option(fc.integer({ min: 1, max: 80 }), { nil: null }),
});
const callArb = fc.record({
  minutesAgo: fc.integer({ min: 0, max: 55 }),
  input: fc.integer({ min: 0, max: 1500 }),
  output: fc.integer({ min: 0, max: 500 }),
  // a CloudEvent with fewer prompt tokens comes first (the log then raises the cost), or the log comes twice
  first: fc.constantFrom("log", "event", "twice"),
});

describe("credit ledger", () => {
  it("equals a decimal reference of the burn rules, and the balance is its sum", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(grantArb, { minLength: 1, maxLength: 4 }),
        fc.array(callArb, { minLength: 1, maxLength: 6 }),
        async (grants, calls) => {
          const kongId = randomUUID();
          const name = `ledger-${kongId.slice(0, 8)}`;
          const made = await admin(stack, "POST", "/v1/consumers", {
            username: name,
            kong_id: kongId,
            metadata: { input_cost_per_token: "0.000001", output_cost_per_token: "0.000002" },
          });
          assert.equal(made.statusCode, 201, made.body);
          const consumerId = made.json().id as string;
          const now = Date.now();
          const states: GrantState[] = [];
          for (const g of grants) {
            const effectiveAt = new Date(now - g.startedMinutesAgo * MINUTE);
            const expiresAt = g.lifeMinutes === null ? null : new Date(effectiveAt.getTime() + g.lifeMinutes * MINUTE);
            const body = {
              amount: new Decimal(g.micro).div(1_000_000).toFixed(),
              kind: "purchase",
              priority: g.priority,
              effective_at: effectiveAt.toISOString(),
              ...(expiresAt ? { expires_at: expiresAt.toISOString() } : {}),
            };
            const res = await admin(stack, "POST", `/v1/consumers/${consumerId}/credits/grants`, body);
            assert.equal(res.statusCode, 201, res.body);
            const row = res.json().grant;
            states.push({
              id: row.id,
              priority: g.priority,
              effectiveAt,
              expiresAt,
              createdAt: new Date(row.created_at),
              remaining: new Decimal(body.amount),
              expired: ZERO,
              voided: false,
            });
          }
          // the reference: each report applied in turn, as the meter settles it
          const ledger: Movement[] = [];
          const settledCost = new Map<string, Decimal>();
          const apply = (id: string, at: Date, cost: Decimal) => {
            ledger.push(...expireDue(states, new Date()));
            ledger.push(
              ...settleCall(
                states,
                {
                  eventId: id,
                  at,
                  cost,
                  previousCost: settledCost.get(id) ?? ZERO,
                  credited: creditedByCall(ledger).get(id) ?? new Map(),
                },
                new Date(),
              ),
            );
            settledCost.set(id, cost);
          };
          for (const c of calls) {
            const id = kongRequestId();
            const at = new Date(now - c.minutesAgo * MINUTE);
            const cost = new Decimal(c.input).times("0.000001").plus(new Decimal(c.output).times("0.000002"));
            const log = {
              v: 1,
              id,
              source: "kong-http-log",
              receivedAt: new Date().toISOString(),
              log: kongLog({
                requestId: id,
                consumer: { id: kongId, username: name },
                startedAt: at.getTime(),
                ai: {
                  proxy: {
                    usage: { prompt_tokens: c.input, completion_tokens: c.output },
                    meta: { request_model: "gpt-4o", response_model: "gpt-4o" },
                  },
                },
              }),
            };
            if (c.first === "event") {
              const prompt = Math.floor(c.input / 2);
              await meterEnvelopes(stack, [
                {
                  v: 1,
                  id,
                  source: "kong-cloudevents",
                  receivedAt: new Date().toISOString(),
                  event: {
                    specversion: "1.0",
                    id: `${id}-in`,
                    source: "kong://cp/1",
                    type: "kong.llm_request",
                    subject: name,
                    time: at.toISOString(),
                    data: { type: "request", tokens: prompt, model: "gpt-4o" },
                  },
                },
              ]);
              apply(id, at, new Decimal(prompt).times("0.000001"));
            }
            await meterEnvelopes(stack, [log]);
            if (c.first === "twice") await meterEnvelopes(stack, [log]);
            apply(id, at, cost);
          }
          const { rows } = await stack.pool.query<{
            grant_id: string;
            kind: string;
            amount: string;
            event_id: string | null;
          }>(
            "SELECT grant_id::text, kind::text, amount::text, event_id FROM credit_ledger WHERE consumer_id = $1 AND kind <> 'grant' ORDER BY id",
            [consumerId],
          );
          const net = (ms: Array<{ grantId: string; kind: string; amount: Decimal; eventId?: string | null }>) => {
            const out = new Map<string, string>();
            for (const m of ms) {
              const key = `${m.grantId} ${m.kind} ${m.eventId ?? ""}`;
              out.set(key, new Decimal(out.get(key) ?? 0).plus(m.amount).toFixed());
            }
            return new Map([...out].filter(([, v]) => v !== "0"));
          };
          const stored = net(
            rows.map((r) => ({
              grantId: r.grant_id,
              kind: r.kind,
              amount: new Decimal(r.amount),
              eventId: r.event_id,
            })),
          );
          ledger.push(...expireDue(states, new Date()));
          // the sweep has not run: expiries not yet written are what the reference wrote beyond the stored ones
          const expected = net(
            ledger.filter(
              (m) =>
                m.kind !== "expiry" ||
                m.eventId !== undefined ||
                rows.some((r) => r.kind === "expiry" && r.event_id === null && r.grant_id === m.grantId),
            ),
          );
          assert.deepEqual(Object.fromEntries([...stored].sort()), Object.fromEntries([...expected].sort()));
          const balance = (await admin(stack, "GET", `/v1/consumers/${consumerId}/credits`)).json();
          const sum = await stack.pool.query(
            "SELECT coalesce(sum(amount), 0)::text AS s FROM credit_ledger WHERE consumer_id = $1 AND at <= now()",
            [consumerId],
          );
          assert.equal(balance.balance, new Decimal(sum.rows[0].s).toFixed(), "the balance is the ledger's sum");
          const reference = states
            .filter((g) => g.effectiveAt <= new Date() && (g.expiresAt === null || g.expiresAt > new Date()))
            .reduce((a, g) => a.plus(g.remaining), ZERO);
          assert.equal(balance.balance, reference.toFixed());
        },
      ),
      { numRuns: runs },
    );
  });
});
