// Alerts that come with the fact they report: an invoice finalized and a dead letter recorded are
// written in the same transaction as their alert, and the dispatch sweep delivers them, signed, to
// every endpoint that takes their type; a disabled endpoint gets nothing more.
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { WEBHOOK_JOBS } from "../../src/jobs/catalog.ts";
import { draftInvoice } from "../../src/billing/invoice.service.ts";
import { recordPeriod } from "../../src/billing/period.service.ts";
import { periodOfKey } from "../../src/domain/billing-period.ts";
import { kong38Ai, kongLog } from "../fixtures/kong-logs.ts";
import { meterLogs } from "../helpers/billing.ts";
import { admin, startStack, type Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";
import { WebhookReceiver } from "../helpers/webhook-receiver.ts";

let stack: Stack;
let receiver: WebhookReceiver;
let quiet: WebhookReceiver;

before(async () => {
  receiver = new WebhookReceiver();
  quiet = new WebhookReceiver();
  // the receivers listen on loopback, which webhooks reach only when the operator allows it
  stack = await startStack(
    {
      BILLING_TIMEZONE: "UTC",
      WEBHOOK_SECRET_KEY: randomBytes(32).toString("base64"),
      WEBHOOK_BACKOFF_MS: "100",
      WEBHOOK_ALLOWED_NETWORKS: "127.0.0.1/32",
    },
    { webhooks: true },
  );
  const all = (await admin(stack, "POST", "/v1/webhook-endpoints", { url: await receiver.start() })).json();
  receiver.secret = all.secret;
  const off = (await admin(stack, "POST", "/v1/webhook-endpoints", { url: await quiet.start() })).json();
  quiet.secret = off.secret;
  await admin(stack, "DELETE", `/v1/webhook-endpoints/${off.id}`);
});
after(async () => {
  await stack.close();
  await receiver.stop();
  await quiet.stop();
});

const sweep = () => stack.webhookQueue.add(WEBHOOK_JOBS.dispatch, {}, { jobId: `sweep.${randomUUID()}` });

describe("alerts from billing and metering", () => {
  it("invoice.finalized: one alert per finalized invoice, with its total, delivered signed", async () => {
    const kongId = randomUUID();
    const id = (
      await admin(stack, "POST", "/v1/consumers", {
        username: `inv-${kongId.slice(0, 8)}`,
        kong_id: kongId,
        metadata: { input_cost_per_token: "0.01", output_cost_per_token: "0.02" },
      })
    ).json().id;
    await meterLogs(stack, [
      kongLog({ consumer: { id: kongId }, startedAt: Date.parse("2026-09-15T12:00:00Z"), ai: kong38Ai() }),
    ]);
    const period = await recordPeriod(stack.db, periodOfKey("2026-09-01", "monthly", "UTC"));
    const { invoiceId } = await draftInvoice(stack.db, {
      consumerId: id,
      periodId: period.id,
      settings: stack.config.billing,
      now: new Date(),
      finalize: true,
    });
    const invoice = await stack.db.invoice.findUniqueOrThrow({ where: { id: invoiceId! } });
    await sweep();
    const [got] = await waitFor(
      () => {
        const r = receiver.ofType("invoice.finalized").filter((x) => x.json.data.invoice_id === invoiceId);
        return r.length ? r : undefined;
      },
      15_000,
      "the invoice.finalized delivery",
    );
    assert.ok(got!.signatureValid);
    assert.deepEqual(
      [got!.json.data.consumer_id, got!.json.data.total, got!.json.data.currency],
      [id, invoice.total.toFixed(), "USD"],
    );
    await sweep(); // a second sweep sends nothing again
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(receiver.ofType("invoice.finalized").filter((x) => x.json.data.invoice_id === invoiceId).length, 1);
  });

  it("dead_letter.recorded: a message the meter cannot read is alerted once, and not to a disabled endpoint", async () => {
    const producer = stack.kafka.producer();
    await producer.connect();
    await producer.send({ topic: stack.config.kafka.rawTopic, messages: [{ value: "this is not a usage envelope" }] });
    await producer.disconnect();
    const row = await waitFor(
      () => stack.db.deadLetter.findFirst({ where: { stage: "meter" } }).then((d) => d ?? undefined),
      20_000,
      "the dead letter recorded",
    );
    const alert = await stack.db.alert.findUniqueOrThrow({ where: { dedupKey: `dead_letter.recorded:${row.id}` } });
    assert.equal(alert.type, "dead_letter.recorded");
    await sweep();
    const [got] = await waitFor(
      () => {
        const r = receiver.ofType("dead_letter.recorded");
        return r.length ? r : undefined;
      },
      15_000,
      "the dead_letter.recorded delivery",
    );
    assert.ok(got!.signatureValid);
    assert.deepEqual([got!.json.data.dead_letter_id, got!.json.data.kind], [row.id, row.kind]);
    assert.equal(got!.headers["webhook-id"], alert.id);
    assert.equal(quiet.received.length, 0, "a disabled endpoint is sent nothing");
  });

  it("webhook.test: sent on request to that one endpoint, signed, in its delivery log", async () => {
    const tested = new WebhookReceiver();
    const created = (await admin(stack, "POST", "/v1/webhook-endpoints", { url: await tested.start() })).json();
    tested.secret = created.secret;
    try {
      const res = await admin(stack, "POST", `/v1/webhook-endpoints/${created.id}/test`);
      assert.equal(res.statusCode, 202, res.body);
      const { delivery_id, alert_id } = res.json();
      const [got] = await waitFor(
        () => (tested.ofType("webhook.test").length ? tested.ofType("webhook.test") : undefined),
        15_000,
        "the test delivery",
      );
      assert.ok(got!.signatureValid);
      assert.equal(got!.json.data.endpoint_id, created.id);
      await sweep(); // the sweep sends it to no other endpoint
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(receiver.ofType("webhook.test").length, 0, "another endpoint that takes every type got it");
      const log = await waitFor(
        async () => {
          const d = (await admin(stack, "GET", `/v1/webhook-endpoints/${created.id}/deliveries`)).json().deliveries;
          return d[0]?.status === "delivered" ? d : undefined;
        },
        15_000,
        "the delivery logged as delivered",
      );
      assert.deepEqual(
        [log.length, log[0].id, log[0].alert_id, log[0].alert_type, log[0].attempt_log[0].status_code],
        [1, delivery_id, alert_id, "webhook.test", 204],
      );
      await admin(stack, "DELETE", `/v1/webhook-endpoints/${created.id}`);
      const refused = await admin(stack, "POST", `/v1/webhook-endpoints/${created.id}/test`);
      assert.equal(refused.statusCode, 409);
      assert.equal(refused.json().error.field, "enabled");
      assert.equal((await admin(stack, "POST", `/v1/webhook-endpoints/${randomUUID()}/test`)).statusCode, 404);
    } finally {
      await tested.stop();
    }
  });
});
