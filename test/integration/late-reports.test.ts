// A report that arrives after the call's invoice was finalized and changes its billed tokens: the
// event and its aggregates follow the new figures, the finalized invoice stays as issued, and the
// difference is billed once on the next invoice as adjustment lines naming the period and event.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Decimal } from "decimal.js";
import type { InvoiceWorker } from "../../workers/invoices/worker.ts";
import { CHAT_REQUEST, CHAT_RESPONSE, kongLog, kongRequestId } from "../fixtures/kong-logs.ts";
import { meterEnvelopes, startTestInvoiceWorker, tick } from "../helpers/billing.ts";
import { aggregateMismatches } from "../helpers/pipeline-audit.ts";
import { admin, startStack, type Stack } from "../helpers/stack.ts";

const RATES = { input_cost_per_token: "0.000001", output_cost_per_token: "0.000004" };
const AT = "2026-11-20T05:00:00Z";
let stack: Stack;
let worker: InvoiceWorker;
const kongId = randomUUID();
const name = `late-${kongId.slice(0, 8)}`;
const rid = kongRequestId();

const envelope = (source: "kong-http-log" | "kong-cloudevents", body: Record<string, unknown>) => ({
  v: 1,
  id: rid,
  source,
  receivedAt: new Date().toISOString(),
  ...(source === "kong-http-log" ? { log: body } : { event: body }),
});
const llm = (type: "request" | "response", tokens: number) => ({
  specversion: "1.0",
  id: randomUUID(),
  source: "kong://cp/1",
  type: "kong.llm_request",
  subject: name,
  time: AT,
  data: { type, tokens, model: "gpt-4o", api_request_id: rid, http_status: 200 },
});

before(async () => {
  stack = await startStack(
    { BILLING_TIMEZONE: "UTC", BILLING_PERIOD: "monthly", BILLING_GRACE_MINUTES: "60", BILLING_REVIEW_HOURS: "0" },
    { meter: false },
  );
  worker = await startTestInvoiceWorker(stack);
  assert.equal(
    (await admin(stack, "POST", "/v1/consumers", { username: name, kong_id: kongId, metadata: RATES })).statusCode,
    201,
  );
});
after(async () => {
  await worker.stop();
  await stack.close();
});

const invoice = async (period: string) => {
  const list = (await admin(stack, "GET", `/v1/consumers/${name}/invoices?period=${period}`)).json().invoices;
  return list[0] ? (await admin(stack, "GET", `/v1/invoices/${list[0].id}`)).json() : undefined;
};

describe("a report after finalization", () => {
  it("November is finalized on Kong's metering events alone", async () => {
    await meterEnvelopes(stack, [
      envelope("kong-cloudevents", llm("request", 500)),
      envelope("kong-cloudevents", llm("response", 100)),
    ]);
    await tick(stack.billingQueue, "2026-12-01T00:30:00Z");
    await tick(stack.billingQueue, "2026-12-01T02:00:00Z");
    const nov = await invoice("2026-11-01");
    assert.equal(nov.status, "finalized");
    assert.equal(
      nov.subtotal,
      new Decimal(500)
        .times(RATES.input_cost_per_token)
        .plus(new Decimal(100).times(RATES.output_cost_per_token))
        .toFixed(),
    );
  });

  it("the http-log entry arrives in December: the event follows our count, November stays, December bills the difference", async () => {
    const nov = await invoice("2026-11-01");
    const log = kongLog({
      requestId: rid,
      consumer: { id: kongId, username: name },
      startedAt: Date.parse(AT),
      ai: {
        proxy: {
          meta: { request_model: "gpt-4o", response_model: "gpt-4o" },
          payload: { request: JSON.stringify(CHAT_REQUEST), response: JSON.stringify(CHAT_RESPONSE) },
        },
      },
    });
    await meterEnvelopes(stack, [envelope("kong-http-log", log)]);
    const e = await stack.db.usageEvent.findFirstOrThrow({ where: { id: rid } });
    assert.deepEqual([e.inputSource, e.outputSource, e.invoiceId], ["counted", "counted", nov.id]);
    assert.deepEqual(await aggregateMismatches(stack.db), []);
    assert.deepEqual(await invoice("2026-11-01"), nov, "a finalized invoice never changes");

    await tick(stack.billingQueue, "2027-01-01T00:30:00Z");
    const dec = await invoice("2026-12-01");
    const novPeriod = (await stack.db.invoice.findUniqueOrThrow({ where: { id: nov.id } })).periodId;
    const lines = dec.lines.map((l: Record<string, unknown>) => [
      l.kind,
      l.token_type,
      l.quantity,
      l.unit_price,
      l.amount,
      l.adjusts_period_id,
      l.adjusts_event_ids,
    ]);
    const dIn = e.inputTokens - 500,
      dOut = e.outputTokens - 100;
    assert.deepEqual(lines, [
      [
        "usage_correction",
        "input",
        dIn,
        RATES.input_cost_per_token,
        new Decimal(dIn).times(RATES.input_cost_per_token).toFixed(),
        novPeriod,
        [rid],
      ],
      [
        "usage_correction",
        "output",
        dOut,
        RATES.output_cost_per_token,
        new Decimal(dOut).times(RATES.output_cost_per_token).toFixed(),
        novPeriod,
        [rid],
      ],
    ]);
    // what November billed plus December's adjustment is what the call costs now
    assert.equal(new Decimal(nov.subtotal).plus(dec.subtotal).toFixed(), new Decimal(e.cost.toFixed()).toFixed());
  });

  it("the same late report again changes nothing", async () => {
    const before = await stack.db.priceAdjustment.count();
    const log = kongLog({ requestId: rid, consumer: { id: kongId, username: name }, startedAt: Date.parse(AT) });
    const r = await meterEnvelopes(stack, [envelope("kong-http-log", log)]);
    assert.equal(r.metered.length, 0);
    assert.equal(await stack.db.priceAdjustment.count(), before);
  });
});
