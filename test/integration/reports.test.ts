// Reports over a metered month: drift between our counts and the provider's, lineage from an
// invoice line to its events and from an event to its cost, flagged events, and the FOCUS export
// with a late event as a correction row. Figures are checked against the stored events and invoices.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Decimal } from "decimal.js";
import type { InvoiceWorker } from "../../workers/invoices/worker.ts";
import { kongLog } from "../fixtures/kong-logs.ts";
import { meterLogs, startTestInvoiceWorker, tick } from "../helpers/billing.ts";
import { admin, startStack, type Stack } from "../helpers/stack.ts";

const RATES = { input_cost_per_token: "0.000001", output_cost_per_token: "0.000002" };
let stack: Stack;
let worker: InvoiceWorker;
const people = ["rep-a", "rep-b"].map((name) => ({ name, kongId: randomUUID() }));
const [a, b] = people as [(typeof people)[number], (typeof people)[number]];

/** A call with a logged request counted here and a provider figure `providerInput`. */
let countedOutput = 7;
const call = (who: typeof a, day: number, providerInput: number, i = 0) =>
  kongLog({
    consumer: { id: who.kongId, username: who.name },
    startedAt: Date.parse(`2026-11-${String(day).padStart(2, "0")}T10:00:00Z`) + i,
    ai: {
      proxy: {
        usage: { prompt_tokens: providerInput, completion_tokens: countedOutput },
        meta: { request_model: "gpt-4o", response_model: "gpt-4o" },
        payload: {
          request: JSON.stringify({
            model: "gpt-4o",
            messages: [{ role: "user", content: "What is the capital of France?" }],
          }),
          response: JSON.stringify({ choices: [{ message: { role: "assistant", content: "Paris is the capital." } }] }),
        },
      },
    },
  });

before(async () => {
  stack = await startStack(
    {
      BILLING_TIMEZONE: "UTC",
      BILLING_PERIOD: "monthly",
      BILLING_GRACE_MINUTES: "60",
      BILLING_REVIEW_HOURS: "0",
      BILLING_ISSUER_NAME: "Example Gateway",
    },
    { meter: false },
  );
  worker = await startTestInvoiceWorker(stack);
  for (const p of people)
    assert.equal(
      (await admin(stack, "POST", "/v1/consumers", { username: p.name, kong_id: p.kongId, metadata: RATES }))
        .statusCode,
      201,
    );
  // what we count for the prompt and the answer; the provider agrees on the answer throughout
  const first = (await meterLogs(stack, [call(a, 1, 0)])).metered[0]!;
  const counted = first.inputTokens;
  countedOutput = first.outputTokens;
  await stack.db.usageEvent.deleteMany({});
  await stack.db.tdlCell.deleteMany({});
  await stack.db.consumerTotal.deleteMany({});
  await stack.db.$executeRaw`DELETE FROM usage_daily`;
  const logs = [
    ...Array.from({ length: 30 }, (_, i) => call(a, 2, counted, i)), // no drift
    call(a, 2, counted * 2, 99), // 50 % drift
    ...Array.from({ length: 5 }, (_, i) => call(b, 3, counted + 1, i)),
    // a billable call with no token figure at all
    {
      ...kongLog({ consumer: { id: b.kongId, username: b.name }, startedAt: Date.parse("2026-11-04T10:00:00Z") }),
      ai: undefined,
    },
  ];
  await meterLogs(stack, logs);
  await tick(stack.billingQueue, "2026-12-01T00:30:00Z");
  await tick(stack.billingQueue, "2026-12-01T02:00:00Z");
  // a November call that arrives after November was finalized: December bills it as a correction
  await meterLogs(stack, [call(a, 30, counted, 7)]);
  await tick(stack.billingQueue, "2027-01-01T00:30:00Z");
});
after(async () => {
  await worker.stop();
  await stack.close();
});

describe("drift", () => {
  it("sums counted against provider per consumer, model and day, and lists the events past the threshold", async () => {
    const res = await admin(
      stack,
      "GET",
      "/v1/reports/drift?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z&threshold=0.25",
    );
    assert.equal(res.statusCode, 200, res.body);
    const r = res.json();
    const events = await stack.db.usageEvent.findMany({
      where: {
        occurredAt: { lt: new Date("2026-12-01T00:00:00Z") },
        countedInputTokens: { not: null },
        providerInputTokens: { not: null },
      },
    });
    const sum = (xs: typeof events, k: "countedInputTokens" | "providerInputTokens") =>
      xs.reduce((s, e) => s + (e[k] ?? 0), 0);
    for (const g of r.groups) {
      const mine = events.filter(
        (e) => e.consumerId === g.consumer_id && e.localDate.toISOString().slice(0, 10) === g.day,
      );
      assert.deepEqual(
        [g.compared_calls, g.input.counted, g.input.provider],
        [mine.length, sum(mine, "countedInputTokens"), sum(mine, "providerInputTokens")],
      );
    }
    assert.equal(r.events_beyond_threshold.length, 1);
    assert.equal(r.events_beyond_threshold[0].drift, 0.5);
    assert.equal(
      r.groups.reduce((s: number, g: { events_beyond_threshold: number }) => s + g.events_beyond_threshold, 0),
      1,
    );
    const strict = (
      await admin(stack, "GET", "/v1/reports/drift?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z&threshold=0")
    ).json();
    assert.ok(strict.events_beyond_threshold.length >= 6, "b's +1 token calls pass a threshold of 0");
    assert.equal((await admin(stack, "GET", "/v1/reports/drift?threshold=-1")).statusCode, 400);
  });
});

describe("lineage", () => {
  it("an invoice line's events, page by page, add up to the line; each event explains its cost", async () => {
    const list = (await admin(stack, "GET", `/v1/consumers/${a.name}/invoices?period=2026-11-01`)).json().invoices;
    const inv = (await admin(stack, "GET", `/v1/invoices/${list[0].id}`)).json();
    for (const line of inv.lines) {
      let after: string | null = null;
      let quantity = 0;
      let amount = new Decimal(0);
      let pages = 0;
      do {
        const res = await admin(
          stack,
          "GET",
          `/v1/invoices/${inv.id}/lines/${line.position}/events?limit=7${after ? `&after=${encodeURIComponent(after)}` : ""}`,
        );
        assert.equal(res.statusCode, 200, res.body);
        const page = res.json();
        quantity += page.events.reduce((s: number, e: { quantity: number }) => s + e.quantity, 0);
        for (const e of page.events as Array<{ amount: string }>) amount = amount.plus(e.amount);
        after = page.next_cursor;
        pages++;
      } while (after);
      assert.equal(quantity, line.quantity, `line ${line.position}`);
      // each event's share of the line, not its whole cost: the shares add up to the line's amount exactly
      assert.equal(amount.toFixed(), new Decimal(line.amount).toFixed(), `line ${line.position} amount`);
      assert.ok(pages >= 5, "31 events in pages of 7");
    }
    const first = (await admin(stack, "GET", `/v1/invoices/${inv.id}/lines/1/events?limit=1`)).json().events[0];
    const why = (await admin(stack, "GET", `/v1/events/${encodeURIComponent(first.id)}`)).json();
    const byType = Object.values(why.tokens as Record<string, { cost: string }>).reduce(
      (s, t) => s.plus(t.cost),
      new Decimal(0),
    );
    assert.equal(byType.toFixed(), why.cost);
    assert.deepEqual(
      [why.tokens.input.source, why.tokens.input.unit_price, why.invoice.id],
      ["counted", RATES.input_cost_per_token, inv.id],
    );
    assert.deepEqual(Object.keys(why.figures).sort(), ["counted", "provider"]);
  });

  it("a consumer key reads its own events and lines, and another consumer's answer 404", async () => {
    const key = (await admin(stack, "POST", `/v1/consumers/${b.name}/api-keys`, {})).json().key;
    const asB = (url: string) => stack.app.inject({ method: "GET", url, headers: { authorization: `Bearer ${key}` } });
    const aEvent = await stack.db.usageEvent.findFirstOrThrow({ where: { consumer: { username: a.name } } });
    const bEvent = await stack.db.usageEvent.findFirstOrThrow({ where: { consumer: { username: b.name } } });
    assert.equal((await asB(`/v1/events/${encodeURIComponent(bEvent.id)}`)).statusCode, 200);
    assert.equal((await asB(`/v1/events/${encodeURIComponent(aEvent.id)}`)).statusCode, 404);
    assert.equal((await asB(`/v1/invoices/${aEvent.invoiceId}/lines/1/events`)).statusCode, 404);
    assert.equal((await asB("/v1/reports/drift")).statusCode, 403);
    const focus = await asB("/v1/reports/focus?period=2026-11-01");
    assert.ok(
      focus.body
        .split("\r\n")
        .slice(1)
        .filter(Boolean)
        .every((row) => row.includes(bEvent.consumerId!)),
    );
  });
});

describe("flagged events", () => {
  it("lists the billable call no source gave a count for", async () => {
    const r = (
      await admin(
        stack,
        "GET",
        "/v1/reports/anomalies?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z&anomaly=no_token_count",
      )
    ).json();
    assert.equal(r.events.length, 1);
    assert.deepEqual(
      [r.events[0].input_source, r.events[0].output_source, r.events[0].billable],
      ["none", "none", true],
    );
  });
});

describe("FOCUS export", () => {
  const parse = (csv: string) => {
    const [head, ...rows] = csv.trim().split("\r\n");
    const cols = head!.split(",");
    return rows.map((r) => Object.fromEntries(r.split(",").map((v, i) => [cols[i], v])));
  };

  it("one row per invoice line; BilledCost sums to the invoices; a late event is a Correction row for its own period", async () => {
    const nov = await admin(stack, "GET", "/v1/reports/focus?period=2026-11-01");
    assert.equal(nov.statusCode, 200, nov.body);
    assert.match(nov.headers["content-type"] as string, /^text\/csv/);
    const rows = parse(nov.body);
    const invoices = await stack.db.invoice.findMany({
      where: { period: { key: "2026-11-01" } },
      include: { lines: true },
    });
    assert.equal(
      rows.length,
      invoices.reduce((s, i) => s + i.lines.length, 0),
    );
    const billed = rows.reduce((s, r) => s.plus(r.BilledCost!), new Decimal(0));
    assert.equal(billed.toFixed(), invoices.reduce((s, i) => s.plus(i.subtotal.toFixed()), new Decimal(0)).toFixed());
    assert.ok(
      rows.every(
        (r) =>
          r.ChargeClass === "" &&
          r.ChargeCategory === "Usage" &&
          r.ConsumedUnit === "Tokens" &&
          r.InvoiceIssuerName === "Example Gateway",
      ),
    );

    const dec = parse((await admin(stack, "GET", "/v1/reports/focus?period=2026-12-01")).body);
    assert.ok(dec.length > 0);
    for (const r of dec) {
      assert.equal(r.ChargeClass, "Correction");
      assert.deepEqual(
        [r.ChargePeriodStart, r.ChargePeriodEnd, r.BillingPeriodStart],
        ["2026-11-01T00:00:00.000Z", "2026-12-01T00:00:00.000Z", "2026-12-01T00:00:00.000Z"],
      );
      assert.equal(
        new Decimal(r.ConsumedQuantity!).times(r.ListUnitPrice!).toFixed(),
        new Decimal(r.BilledCost!).toFixed(),
      );
    }
  });
});
