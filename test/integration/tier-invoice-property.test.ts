// Property: for random price books (flat, graduated, volume and package entries, fees per request,
// a fee and a minimum per period)
// and random streams of calls metered through the meter's own code, the drafted invoice's
// subtotal is the sum of its lines and equals the period's quantities per entry and token type
// rated through the tiers, plus the fee and the minimum's top-up; the total is that, rounded once.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { Decimal } from "decimal.js";
import { draftInvoice } from "../../src/billing/invoice.service.ts";
import { recordPeriod } from "../../src/billing/period.service.ts";
import { periodContaining } from "../../src/domain/billing-period.ts";
import { Decimal as MoneyDecimal } from "../../src/domain/money.ts";
import { ratedAmount, tieringFromJson } from "../../src/domain/tiers.ts";
import { kongLog } from "../fixtures/kong-logs.ts";
import { meterLogs } from "../helpers/billing.ts";
import { admin, startStack, type Stack } from "../helpers/stack.ts";

const runs = Number(process.env.PROPERTY_RUNS ?? 12);
let stack: Stack;
before(async () => {
  stack = await startStack({ BILLING_TIMEZONE: "UTC", BILLING_CURRENCY: "USD" }, { meter: false });
});
after(() => stack.close());

const AT = Date.parse("2025-03-10T12:00:00Z");
/** Entries and the models that reach each: exact, pattern, and the default. */
const ENTRIES = { "m-a": ["m-a"], "m-b*": ["m-b1", "m-b2"], "*": ["zzz"] } as const;
type EntryName = keyof typeof ENTRIES;
/** The entry that prices a model: the one naming it, else the default entry (which prices every other model). */
const entryOf = (model: string, present: Set<string>): EntryName | null =>
  (["m-a", "m-b*"] as const).find((e) => present.has(e) && (ENTRIES[e] as readonly string[]).includes(model)) ??
  (present.has("*") ? "*" : null);

const nano = fc.integer({ min: 0, max: 50_000 }).map((n) => new Decimal(n).div(1e9).toFixed());
const tiersArb = fc
  .uniqueArray(fc.integer({ min: 1, max: 8_000 }), { minLength: 1, maxLength: 3 })
  .chain((bounds) =>
    fc.tuple(
      ...[...bounds]
        .sort((a, b) => a - b)
        .map((above) =>
          fc.record({ above: fc.constant(above), input_cost_per_token: nano, output_cost_per_token: nano }),
        ),
    ),
  );
const tieringArb = fc.option(
  fc.oneof(
    tiersArb.map((tiers) => ({ mode: "graduated" as const, tiers })),
    tiersArb.map((tiers) => ({ mode: "volume" as const, tiers })),
    fc.integer({ min: 1, max: 3_000 }).map((package_size) => ({ mode: "package" as const, package_size })),
  ),
  { nil: undefined },
);
const fee = fc.option(
  fc.integer({ min: 1, max: 5_000 }).map((n) => new Decimal(n).div(1e6).toFixed()),
  { nil: undefined },
);
const entryArb = (model: EntryName) =>
  fc.record({
    model: fc.constant(model),
    input_cost_per_token: nano,
    output_cost_per_token: nano,
    request_fee: fee,
    tiering: tieringArb,
  });
const bookArb = fc.record({
  entries: fc
    .subarray(Object.keys(ENTRIES) as EntryName[], { minLength: 1 })
    .chain((names) => fc.tuple(...names.map(entryArb))),
  fee: fc.option(
    fc.integer({ min: 0, max: 2_000 }).map((c) => new Decimal(c).div(100).toFixed()),
    { nil: undefined },
  ),
  minimum: fc.option(
    fc.integer({ min: 0, max: 100 }).map((c) => new Decimal(c).div(1000).toFixed()),
    { nil: undefined },
  ),
});
const callsArb = fc.array(
  fc.record({
    model: fc.constantFrom("m-a", "m-b1", "m-b2", "zzz"),
    input: fc.integer({ min: 0, max: 4_000 }),
    output: fc.integer({ min: 0, max: 4_000 }),
  }),
  { minLength: 1, maxLength: 8 },
);

describe("tiered invoices", () => {
  it("property: subtotal = sum of lines = tiered quantities x prices + fee + top-up; total rounded once", async () => {
    const period = await recordPeriod(stack.db, periodContaining(new Date(AT), "monthly", "UTC"));
    await fc.assert(
      fc.asyncProperty(bookArb, callsArb, async (book, calls) => {
        const name = `prop-${randomUUID().slice(0, 8)}`;
        const res = await admin(stack, "POST", "/v1/price-books", {
          name,
          prices: book.entries,
          fee_per_period: book.fee ?? null,
          minimum_per_period: book.minimum ?? null,
        });
        assert.equal(res.statusCode, 201, res.body);
        const kongId = randomUUID();
        const consumer = (
          await admin(stack, "POST", "/v1/consumers", { username: `prop-${kongId.slice(0, 8)}`, kong_id: kongId })
        ).json();
        assert.equal(
          (await admin(stack, "PUT", `/v1/consumers/${consumer.id}/plan`, { price_book: name })).statusCode,
          200,
        );
        await meterLogs(
          stack,
          calls.map((c, i) =>
            kongLog({
              consumer: { id: kongId },
              startedAt: AT + i * 1000,
              ai: {
                proxy: {
                  usage: { prompt_tokens: c.input, completion_tokens: c.output, total_tokens: c.input + c.output },
                  meta: { request_model: c.model, response_model: c.model },
                },
              },
            }),
          ),
        );
        const drafted = await draftInvoice(stack.db, {
          consumerId: consumer.id,
          periodId: period.id,
          settings: stack.config.billing,
          now: new Date(),
          finalize: false,
        });
        const present = new Set(book.entries.map((e) => e.model));
        const feeOf = (c: { model: string }) =>
          book.entries.find((e) => e.model === entryOf(c.model, present))?.request_fee;
        const anyBilled = calls.some((c) => c.input + c.output > 0 || feeOf(c) !== undefined);
        if (!drafted.invoiceId) return assert.ok(!anyBilled, "no invoice although calls billed tokens");

        // the reference: quantities per entry and type, rated through the entry's tiering
        let usage = new Decimal(0);
        for (const e of book.entries) {
          const mine = calls.filter((c) => entryOf(c.model, present) === e.model);
          const base = {
            inputCostPerToken: new MoneyDecimal(e.input_cost_per_token),
            outputCostPerToken: new MoneyDecimal(e.output_cost_per_token),
          };
          const tiering = tieringFromJson(e.tiering ?? null) ?? { mode: "graduated" as const, tiers: [] };
          for (const [type, q] of [
            ["input", mine.reduce((s, c) => s + c.input, 0)],
            ["output", mine.reduce((s, c) => s + c.output, 0)],
          ] as const) {
            usage = usage.plus(ratedAmount(tiering, base, type, BigInt(q), null).toFixed());
          }
          usage = usage.plus(new Decimal(e.request_fee ?? 0).times(mine.length)); // one fee per call, never tiered
        }
        const topUp =
          book.minimum !== undefined && new Decimal(book.minimum).gt(usage)
            ? new Decimal(book.minimum).minus(usage)
            : new Decimal(0);
        const expected = usage.plus(book.fee ?? 0).plus(topUp);

        const inv = (await admin(stack, "GET", `/v1/invoices/${drafted.invoiceId}`)).json();
        const sum = inv.lines.reduce((s: Decimal, l: { amount: string }) => s.plus(l.amount), new Decimal(0));
        assert.equal(sum.toFixed(), new Decimal(inv.subtotal).toFixed(), "subtotal = the sum of the lines");
        assert.equal(
          new Decimal(inv.subtotal).toFixed(),
          expected.toFixed(),
          JSON.stringify({ book, calls, lines: inv.lines }),
        );
        assert.equal(
          new Decimal(inv.total).toFixed(2),
          expected.toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(2),
          "the total is the subtotal rounded once to cents",
        );
        for (const l of inv.lines)
          assert.equal(new Decimal(l.quantity).times(l.unit_price).toFixed(), new Decimal(l.amount).toFixed());
      }),
      { numRuns: runs },
    );
  });
});
