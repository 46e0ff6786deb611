// Rates and keys without traps: a rate that would reprice a finalized invoice is refused (409), a
// mistaken future rate can be deleted (and the deletion is recorded), consumer keys can be listed
// with their last use and revoked.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { draftInvoice } from "../../src/billing/invoice.service.ts";
import { recordPeriod } from "../../src/billing/period.service.ts";
import { periodContaining, periodOfKey } from "../../src/domain/billing-period.ts";
import { Decimal } from "../../src/domain/money.ts";
import { kong38Ai, kongLog } from "../fixtures/kong-logs.ts";
import { meterLogs } from "../helpers/billing.ts";
import { admin, startStack, type Stack } from "../helpers/stack.ts";

let stack: Stack;
before(async () => {
  stack = await startStack({ BILLING_TIMEZONE: "UTC" }, { meter: false });
});
after(() => stack.close());

async function consumerWithFinalizedOctober() {
  const kongId = randomUUID();
  const created = await admin(stack, "POST", "/v1/consumers", {
    username: `rates-${kongId.slice(0, 8)}`,
    kong_id: kongId,
    metadata: { input_cost_per_token: "0.000001", output_cost_per_token: "0.000002" },
  });
  const id = created.json().id as string;
  await meterLogs(stack, [
    kongLog({ consumer: { id: kongId }, startedAt: Date.parse("2026-10-15T12:00:00Z"), ai: kong38Ai() }),
  ]);
  const period = await recordPeriod(stack.db, periodOfKey("2026-10-01", "monthly", "UTC"));
  await draftInvoice(stack.db, {
    consumerId: id,
    periodId: period.id,
    settings: stack.config.billing,
    now: new Date(),
    finalize: true,
  });
  return id;
}

const rateCount = (consumerId: string) => stack.db.consumerRate.count({ where: { consumerId } });

describe("rate lifecycle", () => {
  it("a rate that would take effect inside a finalized invoice's period is 409, naming when it may start", async () => {
    const id = await consumerWithFinalizedOctober();
    const before = await rateCount(id);
    const res = await admin(stack, "POST", `/v1/consumers/${id}/rates`, {
      effective_from: "2026-10-20T00:00:00Z",
      input_cost_per_token: "0.5",
      output_cost_per_token: "0.5",
    });
    assert.equal(res.statusCode, 409, res.body);
    assert.equal(res.json().error.field, "effective_from");
    assert.match(res.json().error.message, /2026-10-01.*finalized.*from 2026-11-01T00:00:00.000Z on/);
    const patch = await admin(stack, "PATCH", `/v1/consumers/${id}`, {
      metadata: { input_cost_per_token: "0.7" },
      rates_effective_from: "2026-09-01T00:00:00Z",
    });
    assert.equal(patch.statusCode, 409, patch.body);
    assert.equal(patch.json().error.field, "rates_effective_from");
    assert.equal(await rateCount(id), before, "nothing added");
    const after = await admin(stack, "POST", `/v1/consumers/${id}/rates`, {
      effective_from: "2026-11-01T00:00:00Z",
      input_cost_per_token: "0.5",
      output_cost_per_token: "0.5",
    });
    assert.equal(after.statusCode, 201, after.body);
  });

  it("a future rate can be deleted, and the deletion is a recorded change; a rate in force cannot", async () => {
    const created = await admin(stack, "POST", "/v1/consumers", {
      username: `future-${randomUUID().slice(0, 8)}`,
      metadata: { input_cost_per_token: "0.1", output_cost_per_token: "0.2" },
    });
    const id = created.json().id as string;
    const future = (
      await admin(stack, "POST", `/v1/consumers/${id}/rates`, {
        effective_from: "2099-01-01T00:00:00Z",
        input_cost_per_token: "9",
        output_cost_per_token: "9",
      })
    ).json();
    const res = await stack.app.inject({
      method: "DELETE",
      url: `/v1/consumers/${id}/rates/${future.id}`,
      headers: { authorization: "Bearer test-admin-key", "x-actor": "ops@example" },
    });
    assert.equal(res.statusCode, 204, res.body);
    const rates = (await admin(stack, "GET", `/v1/consumers/${id}/rates`)).json().rates as Array<{ id: string }>;
    assert.ok(!rates.some((r) => r.id === future.id));
    const versions = (await admin(stack, "GET", `/v1/consumers/${id}/metadata/versions`)).json().versions as Array<{
      actor: string;
      changes: Record<string, unknown>;
    }>;
    const deletion = versions.find((v) => v.changes.future_rate);
    assert.deepEqual(deletion?.changes.future_rate, {
      from: { effective_from: "2099-01-01T00:00:00.000Z", input_cost_per_token: "9", output_cost_per_token: "9" },
      to: null,
    });
    assert.equal(deletion?.actor, "ops@example");

    const inForce = rates[0]!;
    const refused = await stack.app.inject({
      method: "DELETE",
      url: `/v1/consumers/${id}/rates/${inForce.id}`,
      headers: { authorization: "Bearer test-admin-key" },
    });
    assert.equal(refused.statusCode, 409);
    assert.equal(
      (
        await stack.app.inject({
          method: "DELETE",
          url: `/v1/consumers/${id}/rates/${randomUUID()}`,
          headers: { authorization: "Bearer test-admin-key" },
        })
      ).statusCode,
      404,
    );
    const bad = await stack.app.inject({
      method: "DELETE",
      url: `/v1/consumers/${id}/rates/nope`,
      headers: { authorization: "Bearer test-admin-key" },
    });
    assert.equal(bad.json().error.field, "path.id");
  });
});

describe("consumer keys", () => {
  it("are listed with prefix, creation and last use, and a revoked key stops working", async () => {
    const id = (await admin(stack, "POST", "/v1/consumers", { username: `keys-${randomUUID().slice(0, 8)}` })).json()
      .id as string;
    const one = (await admin(stack, "POST", `/v1/consumers/${id}/api-keys`)).json();
    const two = (await admin(stack, "POST", `/v1/consumers/${id}/api-keys`)).json();
    const asKey = (key: string) =>
      stack.app.inject({
        method: "GET",
        url: `/v1/consumers/${id}/usage`,
        headers: { authorization: `Bearer ${key}` },
      });
    assert.equal((await asKey(one.key)).statusCode, 200);

    const listed = (await admin(stack, "GET", `/v1/consumers/${id}/api-keys`)).json().api_keys as Array<{
      id: string;
      prefix: string;
      last_used_at: string | null;
      revoked_at: string | null;
    }>;
    assert.deepEqual(
      listed.map((k) => k.id),
      [one.id, two.id],
    );
    assert.equal(listed[0]!.prefix, one.prefix);
    assert.ok(listed[0]!.last_used_at, "the used key shows when");
    assert.equal(listed[1]!.last_used_at, null);
    assert.ok(!JSON.stringify(listed).includes(one.key), "the key itself is never shown again");

    const revoked = await stack.app.inject({
      method: "DELETE",
      url: `/v1/consumers/${id}/api-keys/${one.id}`,
      headers: { authorization: "Bearer test-admin-key" },
    });
    assert.equal(revoked.statusCode, 200);
    assert.ok(revoked.json().revoked_at);
    assert.equal((await asKey(one.key)).statusCode, 401);
    assert.equal((await asKey(two.key)).statusCode, 200);
    const again = await stack.app.inject({
      method: "DELETE",
      url: `/v1/consumers/${id}/api-keys/${one.id}`,
      headers: { authorization: "Bearer test-admin-key" },
    });
    assert.equal(again.json().revoked_at, revoked.json().revoked_at, "revoking twice keeps the first time");
    const byConsumer = await stack.app.inject({
      method: "GET",
      url: `/v1/consumers/${id}/api-keys`,
      headers: { authorization: `Bearer ${two.key}` },
    });
    assert.equal(byConsumer.statusCode, 403);
  });

  it("a correction reprices a finalized period: the difference is one adjustment line on the next invoice, billed once", async () => {
    const id = await consumerWithFinalizedOctober();
    const [event] = await stack.db.usageEvent.findMany({ where: { consumerId: id } });
    const res = await admin(stack, "POST", `/v1/consumers/${id}/rates`, {
      effective_from: "2026-10-01T00:00:00Z",
      input_cost_per_token: "0.000003",
      output_cost_per_token: "0.000002",
      correction: { reason: "contract price was 3e-6" },
    });
    assert.equal(res.statusCode, 201, res.body);
    assert.deepEqual(
      [res.json().repriced_events, res.json().price_adjustments],
      [1, 1],
      "only the input price differs",
    );
    const repriced = await stack.db.usageEvent.findFirstOrThrow({ where: { id: event!.id } });
    assert.equal(
      repriced.cost.toFixed(),
      new Decimal(event!.inputTokens)
        .times("0.000003")
        .plus(new Decimal(event!.outputTokens).times("0.000002"))
        .toFixed(),
    );
    assert.equal(repriced.inputCostPerToken!.toFixed(), "0.000003");
    const totals = await stack.db.consumerTotal.findUniqueOrThrow({ where: { consumerId: id } });
    assert.equal(totals.cost.toFixed(), repriced.cost.toFixed(), "the running total moved with the event");

    // the correction was made now, so the invoice of the period open now is the one that bills it
    const open = periodContaining(new Date(), "monthly", "UTC");
    const current = await recordPeriod(stack.db, open);
    const draft = () =>
      draftInvoice(stack.db, {
        consumerId: id,
        periodId: current.id,
        settings: stack.config.billing,
        now: new Date(),
        finalize: false,
      });
    await draft();
    const { invoiceId } = await draft(); // drafting again claims nothing twice
    const inv = (await admin(stack, "GET", `/v1/invoices/${invoiceId}`)).json();
    const corrections = inv.lines.filter((l: { kind: string }) => l.kind === "price_correction");
    assert.equal(corrections.length, 1, JSON.stringify(inv.lines));
    assert.deepEqual(
      [
        corrections[0].token_type,
        corrections[0].quantity,
        corrections[0].unit_price,
        corrections[0].amount,
        corrections[0].reason,
        corrections[0].adjusts_event_ids,
      ],
      [
        "input",
        event!.inputTokens,
        "0.000002",
        new Decimal(event!.inputTokens).times("0.000002").toFixed(),
        "contract price was 3e-6",
        [event!.id],
      ],
    );
    const following = await recordPeriod(stack.db, periodContaining(open.endsAt, "monthly", "UTC"));
    const next = await draftInvoice(stack.db, {
      consumerId: id,
      periodId: following.id,
      settings: stack.config.billing,
      now: new Date(),
      finalize: false,
    });
    assert.equal(next.outcome, "empty", "a correction is billed on one invoice only");
  });

  it("an invoice can be finalized by hand and voided with a reason, both kept in its history; nonsense is refused", async () => {
    const kongId = randomUUID();
    const id = (
      await admin(stack, "POST", "/v1/consumers", {
        username: `hand-${kongId.slice(0, 8)}`,
        kong_id: kongId,
        metadata: { input_cost_per_token: "0.1", output_cost_per_token: "0.1" },
      })
    ).json().id;
    await meterLogs(stack, [
      kongLog({ consumer: { id: kongId }, startedAt: Date.parse("2025-03-15T12:00:00Z"), ai: kong38Ai() }),
    ]);
    const period = await recordPeriod(stack.db, periodOfKey("2025-03-01", "monthly", "UTC"));
    const { invoiceId } = await draftInvoice(stack.db, {
      consumerId: id,
      periodId: period.id,
      settings: stack.config.billing,
      now: new Date(),
      finalize: false,
    });
    const hand = (path: string, body: unknown) =>
      stack.app.inject({
        method: "POST",
        url: `/v1/invoices/${invoiceId}/${path}`,
        headers: { authorization: "Bearer test-admin-key", "x-actor": "ops@example" },
        payload: body as object,
      });

    const finalized = await hand("finalize", { reason: "customer asked for it early" });
    assert.equal(finalized.statusCode, 200, finalized.body);
    assert.equal(finalized.json().status, "finalized");
    assert.equal((await hand("finalize", {})).statusCode, 409, "only a draft can be finalized");
    const noReason = await hand("void", {});
    assert.deepEqual([noReason.statusCode, noReason.json().error.field], [400, "reason"]);

    const voided = await hand("void", { reason: "billed to the wrong customer", rebill: true });
    assert.equal(voided.statusCode, 200, voided.body);
    assert.equal(voided.json().status, "void");
    assert.deepEqual(
      voided
        .json()
        .history.map((h: { from: string; to: string; actor: string; reason: string }) => [
          h.from,
          h.to,
          h.actor,
          h.reason,
        ]),
      [
        ["draft", "finalized", "ops@example", "customer asked for it early"],
        ["finalized", "void", "ops@example", "billed to the wrong customer"],
      ],
    );
    assert.equal(
      await stack.db.usageEvent.count({ where: { consumerId: id, invoiceId: { not: null } } }),
      0,
      "rebill released the usage for the next invoice",
    );
    assert.equal((await hand("void", { reason: "again" })).statusCode, 409);
    assert.equal(
      (
        await stack.app.inject({
          method: "POST",
          url: `/v1/invoices/${randomUUID()}/void`,
          headers: { authorization: "Bearer test-admin-key" },
          payload: { reason: "x" },
        })
      ).statusCode,
      404,
    );
  });

  it("renaming a consumer is recorded in its metadata versions, with who did it", async () => {
    const name = `rename-${randomUUID().slice(0, 8)}`;
    const id = (await admin(stack, "POST", "/v1/consumers", { username: name })).json().id;
    const res = await stack.app.inject({
      method: "PATCH",
      url: `/v1/consumers/${id}`,
      headers: { authorization: "Bearer test-admin-key", "x-actor": "ops@example" },
      payload: { username: `${name}-new` },
    });
    assert.equal(res.statusCode, 200, res.body);
    const versions = (await admin(stack, "GET", `/v1/consumers/${id}/metadata/versions`)).json().versions as Array<{
      actor: string;
      changes: Record<string, unknown>;
    }>;
    assert.deepEqual(versions.at(-1)!.changes.username, { from: name, to: `${name}-new` });
    assert.equal(versions.at(-1)!.actor, "ops@example");
  });
});
