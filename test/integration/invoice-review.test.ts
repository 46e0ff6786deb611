// The review window and invoice numbers. Drafts of a closed period wait the grace and then the
// review window before a billing run finalizes them, counted from the closing when that is later
// (a worker back from an outage, a restart), and an invoice.drafted alert says when. Finalizing
// gives each issuer's invoices gapless numbers, also when finalizations race and some roll back.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { draftInvoice } from "../../src/billing/invoice.service.ts";
import { recordPeriod } from "../../src/billing/period.service.ts";
import { periodOfKey } from "../../src/domain/billing-period.ts";
import type { InvoiceWorker } from "../../workers/invoices/worker.ts";
import { kongLog } from "../fixtures/kong-logs.ts";
import { meterLogs, startTestInvoiceWorker, tick } from "../helpers/billing.ts";
import { admin, startStack, type Stack } from "../helpers/stack.ts";

const RATES = { input_cost_per_token: "0.000001", output_cost_per_token: "0.000004" };
let stack: Stack;
let worker: InvoiceWorker;

async function consumer(): Promise<{ id: string; kongId: string }> {
  const kongId = randomUUID();
  const res = await admin(stack, "POST", "/v1/consumers", {
    username: `review-${kongId.slice(0, 8)}`,
    kong_id: kongId,
    metadata: RATES,
  });
  assert.equal(res.statusCode, 201, res.body);
  return { id: res.json().id, kongId };
}

const invoiceOf = async (consumerId: string, period: string) => {
  const [inv] = (await admin(stack, "GET", `/v1/consumers/${consumerId}/invoices?period=${period}`)).json().invoices;
  return inv;
};

before(async () => {
  stack = await startStack(
    {
      BILLING_TIMEZONE: "UTC",
      BILLING_PERIOD: "monthly",
      BILLING_GRACE_MINUTES: "60",
      BILLING_ISSUER_NAME: "Example Gateway Ltd",
      BILLING_ISSUER_ADDRESS: "1 Main Street\\n10115 Berlin",
    },
    { meter: false },
  ); // BILLING_REVIEW_HOURS left at its default, 72
  worker = await startTestInvoiceWorker(stack);
});
after(async () => {
  await worker.stop();
  await stack.close();
});

describe("the review window", () => {
  it("a closed period's draft waits the grace and three days, then the run finalizes it with a number", async () => {
    const c = await consumer();
    await meterLogs(stack, [kongLog({ consumer: { id: c.kongId }, startedAt: Date.parse("2026-11-20T05:00:00Z") })]);
    await tick(stack.billingQueue, "2026-12-01T00:30:00Z"); // closes November: drafts
    let inv = await invoiceOf(c.id, "2026-11-01");
    assert.equal(inv.status, "draft");
    assert.equal(inv.number, null);
    // grace ends 01:00; the review adds 72 h
    assert.equal(inv.finalizes_at, "2026-12-04T01:00:00.000Z");
    const drafted = await stack.db.alert.findMany({ where: { type: "invoice.drafted", consumerId: c.id } });
    assert.equal(drafted.length, 1);
    const body = drafted[0]!.payload as { data: Record<string, unknown> };
    assert.equal(body.data.invoice_id, inv.id);
    assert.equal(body.data.finalizes_at, "2026-12-04T01:00:00.000Z");
    assert.equal(body.data.total, inv.total);

    for (const at of ["2026-12-01T02:00:00Z", "2026-12-02T00:00:00Z", "2026-12-04T00:59:59Z"]) {
      await tick(stack.billingQueue, at); // a tick right after a restart is a tick like any other
      inv = await invoiceOf(c.id, "2026-11-01");
      assert.equal(inv.status, "draft", `finalized early, at ${at}`);
    }
    await tick(stack.billingQueue, "2026-12-04T01:00:00Z");
    inv = await invoiceOf(c.id, "2026-11-01");
    assert.equal(inv.status, "finalized");
    assert.match(inv.number, /^INV-\d{6}$/);
    assert.deepEqual(inv.issuer, { name: "Example Gateway Ltd", address: ["1 Main Street", "10115 Berlin"] });
    assert.equal(inv.finalizes_at, null);
    // re-drafting during the review did not announce the draft again
    assert.equal(await stack.db.alert.count({ where: { type: "invoice.drafted", consumerId: c.id } }), 1);
  });

  it("a period closed late (the worker was down) still gets its whole review from the closing", async () => {
    const c = await consumer();
    await meterLogs(stack, [kongLog({ consumer: { id: c.kongId }, startedAt: Date.parse("2026-12-10T05:00:00Z") })]);
    await tick(stack.billingQueue, "2027-01-20T09:00:00Z"); // nineteen days after December ended
    let inv = await invoiceOf(c.id, "2026-12-01");
    assert.equal(inv.status, "draft");
    assert.equal(inv.finalizes_at, "2027-01-23T09:00:00.000Z");
    await tick(stack.billingQueue, "2027-01-20T09:05:00Z");
    await tick(stack.billingQueue, "2027-01-23T08:59:00Z");
    inv = await invoiceOf(c.id, "2026-12-01");
    assert.equal(inv.status, "draft");
    await tick(stack.billingQueue, "2027-01-23T09:00:00Z");
    assert.equal((await invoiceOf(c.id, "2026-12-01")).status, "finalized");
  });

  it("an operator may finalize a draft during its review", async () => {
    const c = await consumer();
    await meterLogs(stack, [kongLog({ consumer: { id: c.kongId }, startedAt: Date.parse("2027-01-05T05:00:00Z") })]);
    await tick(stack.billingQueue, "2027-02-01T00:10:00Z");
    const inv = await invoiceOf(c.id, "2027-01-01");
    assert.equal(inv.status, "draft");
    const res = await admin(stack, "POST", `/v1/invoices/${inv.id}/finalize`, { reason: "reviewed" });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.json().status, "finalized");
    assert.match(res.json().number, /^INV-\d{6}$/);
  });
});

describe("invoice numbers", () => {
  it("are gapless per issuer when finalizations race and some roll back", async () => {
    const period = await recordPeriod(stack.db, periodOfKey("2026-06-01", "monthly", "UTC"));
    const consumers = await Promise.all(Array.from({ length: 12 }, () => consumer()));
    await meterLogs(
      stack,
      consumers.map((c) => kongLog({ consumer: { id: c.kongId }, startedAt: Date.parse("2026-06-15T05:00:00Z") })),
    );
    const before = await stack.db.invoice.count({ where: { number: { not: null } } });
    const outcomes = await Promise.allSettled(
      consumers.map((c, i) =>
        draftInvoice(stack.db, {
          consumerId: c.id,
          periodId: period.id,
          settings: stack.config.billing,
          now: new Date(),
          finalize: true,
          // every third one dies after taking its number
          beforeCommit:
            i % 3 === 2
              ? async () => {
                  throw new Error("dies before commit");
                }
              : undefined,
        }),
      ),
    );
    assert.equal(outcomes.filter((o) => o.status === "rejected").length, 4);
    const numbers = (
      await stack.db.invoice.findMany({ where: { issuerName: "Example Gateway Ltd", number: { not: null } } })
    )
      .map((i) => Number(i.number!.slice("INV-".length)))
      .sort((a, b) => a - b);
    assert.equal(numbers.length, before + 8);
    assert.deepEqual(
      numbers,
      numbers.map((_, i) => i + 1),
      "numbers 1..n, none skipped or given twice",
    );
  });
});
