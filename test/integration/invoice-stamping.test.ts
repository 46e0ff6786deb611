// The meter stamps each billable call of an open period with its consumer's invoice for that period,
// so drafting reads the calls instead of rewriting each one. A period closing while meters write
// still bills every call exactly once: on that invoice, or as a late call on the next.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Decimal } from "decimal.js";
import { draftInvoice, finalizePeriod } from "../../src/billing/invoice.service.ts";
import { periodInvoiceId } from "../../src/billing/period-invoices.ts";
import { recordPeriod, releaseForeignStamps } from "../../src/billing/period.service.ts";
import { periodOfKey } from "../../src/domain/billing-period.ts";
import { usageEnvelope } from "../fixtures/kong-logs.ts";
import { meterEnvelopes } from "../helpers/billing.ts";
import { admin, startStack, type Stack } from "../helpers/stack.ts";

let stack: Stack;
before(async () => {
  stack = await startStack({ BILLING_TIMEZONE: "UTC", BILLING_PERIOD: "monthly" }, { meter: false });
});
after(() => stack.close());

const RATES = { input_cost_per_token: "0.000001", output_cost_per_token: "0.000003" };

async function newConsumer() {
  const kongId = randomUUID();
  const name = `stamp-${kongId.slice(0, 8)}`;
  const res = await admin(stack, "POST", "/v1/consumers", { username: name, kong_id: kongId, metadata: RATES });
  assert.equal(res.statusCode, 201, res.body);
  return { id: res.json().id as string, kongId, name };
}

type Who = Awaited<ReturnType<typeof newConsumer>>;

/** One http-log report of a call at `at` with these token counts. */
const report = (who: Who, at: number, input: number, output: number) =>
  usageEnvelope({ consumer: { id: who.kongId, username: who.name }, at, input, output });

const settings = () => stack.config.billing;
const month = (key: string) => periodOfKey(key, "monthly", "UTC");

async function eventsOf(consumerId: string) {
  return stack.db.$queryRaw<Array<{ id: string; invoice_id: string | null; cost: string; version: string }>>`
    SELECT id, invoice_id::text, cost::text, xmin::text AS version FROM usage_events
    WHERE consumer_id = ${consumerId}::uuid ORDER BY id`;
}

async function subtotal(invoiceId: string | null): Promise<Decimal> {
  if (!invoiceId) return new Decimal(0);
  const inv = await stack.db.invoice.findUnique({ where: { id: invoiceId } });
  return new Decimal(inv?.subtotal.toFixed() ?? "0");
}

describe("invoice stamping", () => {
  it("calls of an open period carry their invoice's id; drafting bills them without rewriting one", async () => {
    const who = await newConsumer();
    const key = "2024-03-01";
    const start = month(key).startsAt.getTime();
    await meterEnvelopes(
      stack,
      Array.from({ length: 30 }, (_, i) => report(who, start + i * 3_600_000, 100 + i, 10 + i)),
    );
    const stamped = periodInvoiceId(who.id, { kind: "monthly", timeZone: "UTC", key });
    const before = await eventsOf(who.id);
    assert.equal(before.length, 30);
    assert.ok(
      before.every((e) => e.invoice_id === stamped),
      "every call names the invoice it will be billed on",
    );

    const period = await recordPeriod(stack.db, month(key));
    const r = await draftInvoice(stack.db, {
      consumerId: who.id,
      periodId: period.id,
      settings: settings(),
      now: new Date(),
      finalize: false,
    });
    assert.equal(r.invoiceId, stamped, "the invoice takes the id its calls were stamped with");
    const drafted = await eventsOf(who.id);
    assert.deepEqual(
      drafted.map((e) => e.version),
      before.map((e) => e.version),
      "drafting wrote no call (each row's version is unchanged)",
    );
    const cost = before.reduce((s, e) => s.plus(e.cost), new Decimal(0));
    assert.equal((await subtotal(stamped)).toFixed(), cost.toFixed());

    // a call of the closed period metered now carries no stamp; the next draft of the period claims it
    await meterEnvelopes(stack, [report(who, start + 40 * 3_600_000, 500, 50)]);
    const late = (await eventsOf(who.id)).find((e) => !before.some((b) => b.id === e.id))!;
    assert.equal(late.invoice_id, null);
    await draftInvoice(stack.db, {
      consumerId: who.id,
      periodId: period.id,
      settings: settings(),
      now: new Date(),
      finalize: false,
    });
    assert.equal((await subtotal(stamped)).toFixed(), cost.plus(late.cost).toFixed());
  });

  it("calls stamped before the period settings changed are released and billed under the new ones", async () => {
    const who = await newConsumer();
    const start = month("2025-06-01").startsAt.getTime();
    // metered while the month was open under monthly periods
    await meterEnvelopes(
      stack,
      Array.from({ length: 12 }, (_, i) => report(who, start + i * 86_400_000, 300 + i, 20)),
    );
    const monthly = periodInvoiceId(who.id, { kind: "monthly", timeZone: "UTC", key: "2025-06-01" });
    assert.ok((await eventsOf(who.id)).every((e) => e.invoice_id === monthly));
    // the operator switches to weekly periods
    const weekly = { ...settings(), period: "weekly" as const };
    assert.equal(await releaseForeignStamps(stack.db, weekly), 12);
    assert.ok(
      (await eventsOf(who.id)).every((e) => e.invoice_id === null),
      "no call names the monthly invoice",
    );
    assert.equal(await releaseForeignStamps(stack.db, weekly), 0, "released once");
    let billed = new Decimal(0);
    for (const key of ["2025-05-26", "2025-06-02", "2025-06-09"]) {
      const period = await recordPeriod(stack.db, periodOfKey(key, "weekly", "UTC"));
      const r = await draftInvoice(stack.db, {
        consumerId: who.id,
        periodId: period.id,
        settings: weekly,
        now: new Date(),
        finalize: false,
      });
      billed = billed.plus(await subtotal(r.invoiceId));
    }
    const cost = (await eventsOf(who.id)).reduce((sum, e) => sum.plus(e.cost), new Decimal(0));
    assert.equal(billed.toFixed(), cost.toFixed(), "every call is on one of the weekly invoices");
    assert.deepEqual(
      (await eventsOf(who.id)).filter((e) => e.invoice_id === null),
      [],
    );
  });

  it("a period closing while meters write bills every call once: on its invoice or on the next", async () => {
    const rounds = Number(process.env.PROPERTY_RUNS ?? 6);
    for (let round = 0; round < rounds; round++) {
      const who = await newConsumer();
      const key = `${2000 + round}-03-01`;
      const nextKey = `${2000 + round}-04-01`;
      const start = month(key).startsAt.getTime();
      let closed = false;
      let written = 0;
      // three meters write the month's calls without pause until a moment after it closed
      const writer = async (lane: number) => {
        for (let n = 0; !closed || n % 7 !== 0; n++) {
          const batch = Array.from({ length: 20 }, (_, i) =>
            report(who, start + ((lane * 1000 + n * 20 + i) % 600) * 60_000, 50 + i, 5 + lane),
          );
          await meterEnvelopes(stack, batch);
          written += batch.length;
        }
      };
      const closing = (async () => {
        await new Promise((r) => setTimeout(r, 30 + round * 25));
        const period = await recordPeriod(stack.db, month(key));
        // drafting and finalizing at once: a stamped call a meter committed after this would be lost
        // (no invoice when no call was committed yet: then all of them are late)
        await finalizePeriod(stack.db, period.id, [who.id], settings(), new Date());
        closed = true;
        return (await stack.db.invoice.findFirst({ where: { consumerId: who.id, periodId: period.id } }))?.id ?? null;
      })();
      const [invoiceId] = await Promise.all([closing, writer(0), writer(1), writer(2)]);
      const next = await recordPeriod(stack.db, month(nextKey));
      const r = await draftInvoice(stack.db, {
        consumerId: who.id,
        periodId: next.id,
        settings: settings(),
        now: new Date(),
        finalize: false,
      });
      const events = await eventsOf(who.id);
      assert.equal(events.length, written);
      const cost = events.reduce((s, e) => s.plus(e.cost), new Decimal(0));
      const billed = (await subtotal(invoiceId)).plus(await subtotal(r.invoiceId));
      assert.equal(billed.toFixed(), cost.toFixed(), `round ${round}: billed once, all of it`);
      const ids = new Set([invoiceId, r.invoiceId]);
      assert.deepEqual(
        events.filter((e) => !ids.has(e.invoice_id)),
        [],
        `round ${round}: every call is on one of the two invoices`,
      );
    }
  });
});
