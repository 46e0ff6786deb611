// Invoices from metered usage: a month for three consumers with a mid-month rate change, checked
// against a reference computed here with decimals; reruns and a run killed half-way; a late
// event after finalization; the report as JSON and CSV; what a consumer key may read.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Decimal } from "decimal.js";
import { draftInvoice } from "../../src/billing/invoice.service.ts";
import { JOBS } from "../../src/jobs/catalog.ts";
import type { InvoiceWorker } from "../../workers/invoices/worker.ts";
import { kongLog } from "../fixtures/kong-logs.ts";
import { meterLogs, runJobs, startTestInvoiceWorker, tick } from "../helpers/billing.ts";
import { admin, startStack, type Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

const SEOUL = "+09:00";
const RATE_CHANGE = `2026-11-15T00:00:00${SEOUL}`;
type Rates = { in: string; out: string };
type Plan = { name: string; kongId: string; models: string[]; before: Rates; after?: Rates; id?: string };
const PLANS: Plan[] = [
  {
    name: "alpha",
    kongId: randomUUID(),
    models: ["gpt-4o", "gpt-4o-mini"],
    before: { in: "0.000000083", out: "0.00000033" },
    after: { in: "0.0000001", out: "0.0000004" },
  },
  { name: "beta", kongId: randomUUID(), models: ["gpt-4o"], before: { in: "0.00000005", out: "0.0000002" } },
  {
    name: "gamma",
    kongId: randomUUID(),
    models: ["kt-llama3"],
    before: { in: "0.000000123456", out: "0.000000654321" },
    after: { in: "0.0000002", out: "0.0000007" },
  },
];

type Synthetic = { plan: Plan; at: string; model: string; input: number; output: number; billable: boolean };

/** Three calls a day per consumer through November (Seoul), plus calls on both sides of the month. */
function november(): Synthetic[] {
  const out: Synthetic[] = [];
  PLANS.forEach((plan, p) => {
    for (let day = 1; day <= 30; day++) {
      [1, 11, 23].forEach((hour, k) => {
        const at = `2026-11-${String(day).padStart(2, "0")}T${String(hour).padStart(2, "0")}:${String(7 * k + p).padStart(2, "0")}:00${SEOUL}`;
        out.push({
          plan,
          at,
          model: plan.models[(day + k) % plan.models.length]!,
          input: 1000 + 37 * day * (k + 1) + p,
          output: 200 + 11 * day + 3 * k,
          billable: true,
        });
      });
    }
  });
  const [alpha, beta] = PLANS;
  out.push({
    plan: alpha!,
    at: `2026-10-31T23:59:59${SEOUL}`,
    model: "gpt-4o",
    input: 5000,
    output: 100,
    billable: true,
  }); // October
  out.push({
    plan: alpha!,
    at: `2026-12-01T00:00:00${SEOUL}`,
    model: "gpt-4o",
    input: 7000,
    output: 300,
    billable: true,
  }); // December
  // provider 429
  out.push({ plan: beta!, at: `2026-11-10T12:00:00${SEOUL}`, model: "gpt-4o", input: 999, output: 0, billable: false });
  return out;
}

function logOf(s: Synthetic) {
  return kongLog({
    consumer: { id: s.plan.kongId, username: s.plan.name },
    startedAt: Date.parse(s.at),
    status: s.billable ? 200 : 429,
    ai: {
      proxy: {
        usage: { prompt_tokens: s.input, completion_tokens: s.output },
        meta: { request_model: s.model, response_model: s.model, provider_name: "openai" },
      },
    },
  });
}

/** The expected lines of one consumer's November invoice, computed without the product's code. */
function reference(plan: Plan, usage: Synthetic[]) {
  const from = Date.parse(`2026-11-01T00:00:00${SEOUL}`),
    to = Date.parse(`2026-12-01T00:00:00${SEOUL}`);
  const lines = new Map<string, { model: string; direction: string; quantity: number; unit_price: string }>();
  for (const s of usage) {
    const t = Date.parse(s.at);
    if (s.plan !== plan || !s.billable || t < from || t >= to) continue;
    const rate = plan.after && t >= Date.parse(RATE_CHANGE) ? plan.after : plan.before;
    for (const [direction, quantity, price] of [
      ["input", s.input, rate.in],
      ["output", s.output, rate.out],
    ] as const) {
      const key = `${s.model}|${direction}|${price}`;
      const line = lines.get(key) ?? {
        model: s.model,
        direction,
        quantity: 0,
        unit_price: new Decimal(price).toFixed(),
      };
      line.quantity += quantity;
      lines.set(key, line);
    }
  }
  const rows = [...lines.values()].map((l) => ({
    ...l,
    amount: new Decimal(l.quantity).times(l.unit_price).toFixed(),
  }));
  const subtotal = rows.reduce((s, l) => s.plus(l.amount), new Decimal(0));
  return {
    lines: rows,
    subtotal: subtotal.toFixed(),
    total: subtotal.toDecimalPlaces(2, Decimal.ROUND_HALF_UP).toFixed(),
  };
}

let stack: Stack;
let worker: InvoiceWorker;
const usage = november();

before(async () => {
  stack = await startStack(
    {
      BILLING_TIMEZONE: "Asia/Seoul",
      BILLING_PERIOD: "monthly",
      BILLING_CURRENCY: "USD",
      BILLING_ROUNDING: "half_up",
      BILLING_GRACE_MINUTES: "60",
      BILLING_REVIEW_HOURS: "0", // finalized as soon as the grace ends: the review window has its own test
    },
    { meter: false },
  );
  worker = await startTestInvoiceWorker(stack);
  for (const plan of PLANS) {
    const res = await admin(stack, "POST", "/v1/consumers", {
      username: plan.name,
      kong_id: plan.kongId,
      metadata: { input_cost_per_token: plan.before.in, output_cost_per_token: plan.before.out },
    });
    assert.equal(res.statusCode, 201, res.body);
    plan.id = res.json().id;
    if (plan.after) {
      const r = await admin(stack, "POST", `/v1/consumers/${plan.name}/rates`, {
        effective_from: RATE_CHANGE,
        input_cost_per_token: plan.after.in,
        output_cost_per_token: plan.after.out,
      });
      assert.equal(r.statusCode, 201, r.body);
    }
  }
  // metered in shuffled batches, as partitions would deliver them
  const logs = usage.map(logOf).sort(() => Math.random() - 0.5);
  for (let i = 0; i < logs.length; i += 50) await meterLogs(stack, logs.slice(i, i + 50));
});
after(async () => {
  await worker.stop();
  await stack.close();
});

const invoiceOf = async (plan: Plan, period: string) => {
  const list = (await admin(stack, "GET", `/v1/consumers/${plan.name}/invoices?period=${period}`)).json().invoices;
  assert.ok(list.length <= 1);
  return list[0] ? (await admin(stack, "GET", `/v1/invoices/${list[0].id}`)).json() : undefined;
};

describe("invoices", () => {
  it("a tick after the month closes every ended period; November's invoices equal the reference", async () => {
    await tick(stack.billingQueue, `2026-12-01T00:30:00${SEOUL}`);
    for (const plan of PLANS) {
      const inv = await invoiceOf(plan, "2026-11-01");
      const ref = reference(plan, usage);
      assert.equal(inv.status, "draft");
      const byKey = (rows: object[]) => rows.map((r) => JSON.stringify(r)).sort();
      assert.deepEqual(
        byKey(
          inv.lines.map((l: Record<string, unknown>) => ({
            model: l.model,
            direction: l.token_type,
            quantity: l.quantity,
            unit_price: l.unit_price,
            amount: l.amount,
          })),
        ),
        byKey(ref.lines),
        plan.name,
      );
      assert.equal(inv.subtotal, ref.subtotal, plan.name);
      assert.equal(inv.total, ref.total, plan.name);
      assert.equal(inv.currency, "USD");
    }
    // a price that changed mid-month splits a line: alpha has two gpt-4o input prices
    const alpha = await invoiceOf(PLANS[0]!, "2026-11-01");
    assert.equal(
      alpha.lines.filter((l: { model: string; token_type: string }) => l.model === "gpt-4o" && l.token_type === "input")
        .length,
      2,
    );
    // the boundary second before November is October's; December is not closed yet
    const october = await invoiceOf(PLANS[0]!, "2026-10-01");
    assert.equal(october.lines[0].quantity, 5000);
    assert.equal(await stack.db.invoice.count(), 4);
  });

  it("running the period job again, or killed half-way and rerun, leaves one invoice per consumer", async () => {
    const before = await stack.db.invoice.findMany({ orderBy: { id: "asc" }, select: { id: true, total: true } });
    await runJobs(stack.billingQueue, JOBS.closePeriod.name, {
      periodKey: "2026-11-01",
      asOf: `2026-12-01T00:40:00${SEOUL}`,
    });
    await runJobs(stack.billingQueue, JOBS.closePeriod.name, {
      periodKey: "2026-11-01",
      asOf: `2026-12-01T00:41:00${SEOUL}`,
    });
    const after = await stack.db.invoice.findMany({ orderBy: { id: "asc" }, select: { id: true, total: true } });
    assert.deepEqual(
      after.map((i) => [i.id, i.total.toFixed()]),
      before.map((i) => [i.id, i.total.toFixed()]),
    );

    // December so far: alpha's first second of December. A draft that dies before commit leaves nothing.
    const december = await stack.db.billingPeriod.create({
      data: {
        kind: "monthly",
        key: "2026-12-01",
        timeZone: "Asia/Seoul",
        startsAt: new Date(`2026-12-01T00:00:00${SEOUL}`),
        endsAt: new Date(`2027-01-01T00:00:00${SEOUL}`),
        finalizeAfter: new Date(`2027-01-01T00:00:00${SEOUL}`),
      },
    });
    await assert.rejects(
      draftInvoice(stack.db, {
        consumerId: PLANS[0]!.id!,
        periodId: december.id,
        settings: stack.config.billing,
        now: new Date(),
        finalize: false,
        beforeCommit: async () => {
          throw new Error("killed");
        },
      }),
      /killed/,
    );
    assert.equal(await stack.db.invoice.count({ where: { periodId: december.id } }), 0);
    assert.equal(
      (
        await stack.db.$queryRaw<{ n: number }[]>`
          SELECT count(*)::int AS n FROM usage_events e JOIN invoices i ON i.id = e.invoice_id
          WHERE i.period_id = ${december.id}::uuid`
      )[0]!.n,
      0,
      "no event claimed",
    );
    await runJobs(stack.billingQueue, JOBS.closePeriod.name, {
      periodKey: "2026-12-01",
      asOf: `2027-01-01T00:10:00${SEOUL}`,
    });
    await runJobs(stack.billingQueue, JOBS.closePeriod.name, {
      periodKey: "2026-12-01",
      asOf: `2027-01-01T00:10:00${SEOUL}`,
    });
    assert.equal(await stack.db.invoice.count({ where: { periodId: december.id } }), 1);
    assert.equal((await invoiceOf(PLANS[0]!, "2026-12-01")).lines[0].quantity, 7000);
  });

  it("a late event after finalization leaves the invoice unchanged and appears as an adjustment on the next", async () => {
    await tick(stack.billingQueue, `2026-12-01T02:00:00${SEOUL}`); // November's grace (60 min) is over
    const november = await invoiceOf(PLANS[0]!, "2026-11-01");
    assert.equal(november.status, "finalized");
    assert.equal(november.issued_at, new Date(`2026-12-01T02:00:00${SEOUL}`).toISOString());

    const late: Synthetic = {
      plan: PLANS[0]!,
      at: `2026-11-20T10:00:00${SEOUL}`,
      model: "gpt-4o",
      input: 4321,
      output: 123,
      billable: true,
    };
    const lateLog = logOf(late);
    await meterLogs(stack, [lateLog]);
    await tick(stack.billingQueue, `2026-12-01T03:00:00${SEOUL}`);
    assert.deepEqual(await invoiceOf(PLANS[0]!, "2026-11-01"), november, "the finalized invoice did not change");

    // December's close (the draft made above is redrafted) picks the late event up as an adjustment
    await runJobs(stack.billingQueue, JOBS.closePeriod.name, {
      periodKey: "2026-12-01",
      asOf: `2027-01-01T00:20:00${SEOUL}`,
    });
    const dec = await invoiceOf(PLANS[0]!, "2026-12-01");
    const novemberPeriod = await stack.db.billingPeriod.findFirstOrThrow({ where: { key: "2026-11-01" } });
    const adjustments = dec.lines.filter(
      (l: { adjusts_period_id: string | null }) => l.adjusts_period_id === novemberPeriod.id,
    );
    const lateId = (lateLog.request as { id: string }).id;
    // priced at the rate in force on Nov 20 (after the change)
    assert.deepEqual(
      adjustments.map((l: Record<string, unknown>) => [
        l.token_type,
        l.quantity,
        l.unit_price,
        l.amount,
        l.adjusts_event_ids,
      ]),
      [
        ["input", 4321, "0.0000001", "0.0004321", [lateId]],
        ["output", 123, "0.0000004", "0.0000492", [lateId]],
      ],
    );
  });

  it("the period report as CSV parses back to the JSON report", async () => {
    const json = (await admin(stack, "GET", "/v1/billing/report?period=2026-11-01")).json();
    const csvRes = await stack.app.inject({
      method: "GET",
      url: "/v1/billing/report?period=2026-11-01",
      headers: { authorization: "Bearer test-admin-key", accept: "text/csv" },
    });
    assert.match(String(csvRes.headers["content-type"]), /^text\/csv/);
    const [header, ...rows] = csvRes.body
      .trim()
      .split("\r\n")
      .map((line) => line.split(","));
    const parsed = rows.map((cells) =>
      Object.fromEntries(header!.map((h, i) => [h, cells[i] === "" ? null : cells[i]])),
    );
    const expected = json.invoices.map((r: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? null : String(v)])),
    );
    assert.equal(parsed.length, 3);
    assert.deepEqual(parsed, expected);
    const viaQuery = await admin(stack, "GET", "/v1/billing/report?period=2026-11-01&format=csv");
    assert.equal(viaQuery.body, csvRes.body);
  });

  it("a consumer key reads only its own invoices and usage", async () => {
    const key = (await admin(stack, "POST", "/v1/consumers/alpha/api-keys")).json().key as string;
    const as = (url: string, method: "GET" | "POST" = "GET") =>
      stack.app.inject({ method, url, headers: { authorization: `Bearer ${key}` } });
    const betaInvoice = await invoiceOf(PLANS[1]!, "2026-11-01");
    assert.equal((await as(`/v1/invoices/${betaInvoice.id}`)).statusCode, 404);
    assert.equal((await as("/v1/consumers/beta/invoices")).statusCode, 404);
    assert.equal((await as("/v1/consumers/beta/usage")).statusCode, 404);
    const mine = (await as("/v1/invoices")).json().invoices;
    assert.ok(mine.length >= 2 && mine.every((i: { consumer_id: string }) => i.consumer_id === PLANS[0]!.id));
    assert.equal((await as("/v1/consumers/alpha/invoices")).statusCode, 200);
    assert.equal((await as("/v1/consumers/alpha/usage")).statusCode, 200);
    for (const url of [
      "/v1/billing/report?period=2026-11-01",
      "/v1/consumers",
      "/v1/consumers/alpha",
      "/v1/usage/unattributed",
    ]) {
      assert.equal((await as(url)).statusCode, 403, url);
    }
  });

  it("the operator runs a period by hand and reads its status and progress", async () => {
    const bad = await admin(stack, "POST", "/v1/billing/runs", { period: "2026-10-05" });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.field, "period");
    const future = await admin(stack, "POST", "/v1/billing/runs", { period: "2099-01-01" });
    assert.equal(future.statusCode, 409);
    const res = await admin(stack, "POST", "/v1/billing/runs", { period: "2026-10-01" });
    assert.equal(res.statusCode, 202, res.body);
    const status = await waitFor(
      async () => {
        const s = (await admin(stack, "GET", res.json().status_url)).json();
        return s.state === "completed" ? s : undefined;
      },
      20_000,
      "the run to complete",
    );
    // October is finalized: a rerun visits no consumer and changes nothing
    assert.equal(status.consumers, 0);
    assert.deepEqual(status.invoices, { finalized: 1 });
  });
});
