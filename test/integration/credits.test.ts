// Prepaid credit: grants through the API, burnt by the meter in its transaction, exactly once per
// call however its reports arrive, with the balance always the ledger's sum.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { kongRequestId, usageEnvelope } from "../fixtures/kong-logs.ts";
import { meterEnvelopes } from "../helpers/billing.ts";
import { admin, startStack, type Stack } from "../helpers/stack.ts";
import { Decimal } from "../../src/domain/money.ts";
import { sweepCredits } from "../../src/credits/credit-sweep.ts";
import { alertOnBalance, creditStanding } from "../../src/credits/credit-hold.ts";
import { draftInvoice } from "../../src/billing/invoice.service.ts";
import { recordPeriod } from "../../src/billing/period.service.ts";
import { periodContaining } from "../../src/domain/billing-period.ts";
import { focusRows } from "../../src/reports/focus.ts";

let stack: Stack;
before(async () => {
  stack = await startStack({ BILLING_TIMEZONE: "Europe/Berlin" }, { meter: false });
});
after(() => stack.close());

/** A configured consumer paying 0.000001 per input and 0.000003 per output token. */
async function newConsumer() {
  const kongId = randomUUID();
  const name = `credit-${kongId.slice(0, 8)}`;
  const res = await admin(stack, "POST", "/v1/consumers", {
    username: name,
    kong_id: kongId,
    metadata: { input_cost_per_token: "0.000001", output_cost_per_token: "0.000003" },
  });
  assert.equal(res.statusCode, 201, res.body);
  return { id: res.json().id as string, kongId, name };
}

type Consumer = Awaited<ReturnType<typeof newConsumer>>;
/** Calls happen now: a grant covers calls from its effective time on. */
const logOf = (c: Consumer, rid: string, input: number, output: number, when = Date.now()) =>
  usageEnvelope({ consumer: { id: c.kongId, username: c.name }, at: when, input, output, requestId: rid });

const eventOf = (c: Consumer, rid: string, input: number, when = Date.now()) => ({
  v: 1,
  id: rid,
  source: "kong-cloudevents",
  receivedAt: new Date().toISOString(),
  event: {
    specversion: "1.0",
    id: `${rid}-in`,
    source: "kong://cp/1",
    type: "kong.llm_request",
    subject: c.name,
    time: new Date(when).toISOString(),
    data: { type: "request", tokens: input, model: "gpt-4o" },
  },
});

const credits = async (c: Consumer) => {
  const res = await admin(stack, "GET", `/v1/consumers/${c.id}/credits`);
  assert.equal(res.statusCode, 200, res.body);
  return res.json();
};
const grant = async (c: Consumer, body: Record<string, unknown>) => {
  const res = await admin(stack, "POST", `/v1/consumers/${c.id}/credits/grants`, body);
  assert.equal(res.statusCode, 201, res.body);
  return res.json().grant;
};
/** The ledger's sum over movements in effect by now, which the balance must equal. */
async function ledgerSum(c: Consumer) {
  const { rows } = await stack.pool.query(
    "SELECT coalesce(sum(amount), 0)::text AS s FROM credit_ledger WHERE consumer_id = $1 AND at <= now()",
    [c.id],
  );
  return new Decimal(rows[0].s).toFixed();
}

describe("credit grants burnt by metered cost", () => {
  it("burns by priority, once per call, and moves by the exact difference when a call's cost changes", async () => {
    const c = await newConsumer();
    const purchase = await grant(c, { amount: "1", kind: "purchase", note: "order 1042" });
    const promo = await grant(c, {
      amount: "0.001",
      kind: "promotion",
      priority: 0,
      expires_at: new Date(Date.now() + 86_400_000).toISOString(),
    });
    assert.equal((await credits(c)).balance, "1.001");

    // 700 input + 40 output = 0.00082; the promotion (priority 0) goes first
    const a = kongRequestId();
    await meterEnvelopes(stack, [logOf(c, a, 700, 40)]);
    await meterEnvelopes(stack, [logOf(c, a, 700, 40)]); // redelivered
    let s = await credits(c);
    assert.equal(s.balance, "1.00018");
    assert.equal(s.grants.find((g: { id: string }) => g.id === promo.id).burnt, "0.00082");
    // the second call spends the promotion and goes on to the purchase
    const b = kongRequestId();
    await meterEnvelopes(stack, [logOf(c, b, 700, 40)]);
    s = await credits(c);
    assert.equal(s.balance, "0.99936");
    assert.deepEqual(
      s.grants.map((g: { id: string; remaining: string; status: string }) => [g.id, g.remaining, g.status]),
      [
        [promo.id, "0", "spent"],
        [purchase.id, "0.99936", "active"],
      ],
    );

    // a call first known from Kong's prompt-token event, then from the log with more tokens
    const d = kongRequestId();
    const dAt = Date.now();
    await meterEnvelopes(stack, [eventOf(c, d, 100, dAt)]);
    assert.equal((await credits(c)).balance, "0.99926");
    await meterEnvelopes(stack, [logOf(c, d, 300, 10, dAt)]);
    assert.equal(
      (await credits(c)).balance,
      "0.99903",
      "the log raised the call's cost to 0.00033: 0.00023 more was burnt",
    );
    assert.equal(await ledgerSum(c), "0.99903");

    const ledger = (await admin(stack, "GET", `/v1/consumers/${c.id}/credits/ledger`)).json();
    const ofD = ledger.entries
      .filter((e: { event_id: string }) => e.event_id === d)
      .map((e: { kind: string; amount: string }) => [e.kind, e.amount]);
    assert.deepEqual(ofD, [
      ["burn", "-0.0001"],
      ["burn", "-0.00023"],
    ]);
  });

  it("a call beyond the balance is covered as far as credit goes; void takes what is left", async () => {
    const c = await newConsumer();
    const g = await grant(c, { amount: "0.0005", kind: "purchase" });
    await meterEnvelopes(stack, [logOf(c, kongRequestId(), 700, 40)]);
    let s = await credits(c);
    assert.equal(s.balance, "0");
    assert.equal(s.grants[0].burnt, "0.0005");
    const top = await grant(c, { amount: "2", kind: "purchase", note: "top-up" });
    const voided = await admin(stack, "POST", `/v1/consumers/${c.id}/credits/grants/${top.id}/void`, {
      reason: "refunded",
    });
    assert.equal(voided.statusCode, 200, voided.body);
    assert.equal(voided.json().voided, "2");
    assert.equal(voided.json().balance, "0");
    const again = await admin(stack, "POST", `/v1/consumers/${c.id}/credits/grants/${top.id}/void`, {
      reason: "refunded",
    });
    assert.equal(again.statusCode, 409);
    s = await credits(c);
    assert.equal(s.grants.find((x: { id: string }) => x.id === top.id).status, "voided");
    assert.equal(await ledgerSum(c), "0");
    assert.ok(g.id);
  });

  it("a grant effective later is scheduled, not spendable; one dated as a day starts at midnight in the billing time zone", async () => {
    const c = await newConsumer();
    const later = await grant(c, {
      amount: "3",
      kind: "promotion",
      effective_at: "2099-01-01",
      expires_at: "2099-02-01",
    });
    assert.equal(later.effective_at, "2098-12-31T23:00:00.000Z");
    assert.equal(later.status, "scheduled");
    const s = await credits(c);
    assert.equal(s.balance, "0");
    assert.equal(s.scheduled, "3");
    await meterEnvelopes(stack, [logOf(c, kongRequestId(), 700, 40)]);
    assert.equal((await credits(c)).scheduled, "3", "a call now does not burn a grant that starts later");
  });

  it("repricing a call moves its credit by the exact difference", async () => {
    const c = await newConsumer();
    await grant(c, { amount: "1", kind: "purchase", effective_at: new Date(Date.now() - 3_600_000).toISOString() });
    const calledAt = Date.now() - 1_800_000;
    await meterEnvelopes(stack, [
      logOf(c, kongRequestId(), 1000, 100, calledAt),
      logOf(c, kongRequestId(), 2000, 0, calledAt + 1000),
    ]);
    assert.equal((await credits(c)).balance, "0.9967", "0.0013 + 0.002 burnt at the first rate");
    // a rate from before the calls, twice the price: both calls cost twice as much
    const rate = await admin(stack, "POST", `/v1/consumers/${c.id}/rates`, {
      effective_from: new Date(calledAt - 60_000).toISOString(),
      input_cost_per_token: "0.000002",
      output_cost_per_token: "0.000006",
    });
    assert.equal(rate.statusCode, 201, rate.body);
    assert.equal((await credits(c)).balance, "0.9934");
    assert.equal(await ledgerSum(c), "0.9934");
  });

  it("a plan's new price moves the credit of the calls it reprices", async () => {
    const c = await newConsumer();
    const book = `credit-plan-${c.kongId.slice(0, 8)}`;
    const since = new Date(Date.now() - 3_600_000).toISOString();
    const created = await admin(stack, "POST", "/v1/price-books", {
      name: book,
      prices: [
        { model: "gpt-4o", effective_from: since, input_cost_per_token: "0.000001", output_cost_per_token: "0.000001" },
      ],
    });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal((await admin(stack, "PUT", `/v1/consumers/${c.id}/plan`, { price_book: book })).statusCode, 200);
    await grant(c, { amount: "1", kind: "purchase", effective_at: since });
    const calledAt = Date.now() - 1_800_000;
    await meterEnvelopes(stack, [logOf(c, kongRequestId(), 1000, 1000, calledAt)]);
    assert.equal((await credits(c)).balance, "0.998");
    const priced = await admin(stack, "POST", `/v1/price-books/${book}/prices`, {
      model: "gpt-4o",
      effective_from: new Date(calledAt - 60_000).toISOString(),
      input_cost_per_token: "0.0000005",
      output_cost_per_token: "0.0000005",
    });
    assert.equal(priced.statusCode, 201, priced.body);
    assert.equal((await credits(c)).balance, "0.999", "half the price: half of the burn given back");
    assert.equal(await ledgerSum(c), "0.999");
  });

  it("credits.low is raised once per threshold crossed and armed again by a top-up", async () => {
    const c = await newConsumer();
    assert.equal(
      (
        await admin(stack, "PUT", `/v1/consumers/${c.id}/credits/settings`, {
          prepaid: false,
          low_thresholds: ["0.0005", "0.0009"],
        })
      ).statusCode,
      200,
    );
    await grant(c, { amount: "0.001", kind: "purchase" });
    const alerts = { db: stack.db, webhookQueue: stack.webhookQueue, config: stack.config };
    // 0.00082 burnt: the balance 0.00018 is below both thresholds
    await meterEnvelopes(stack, [logOf(c, kongRequestId(), 700, 40)]);
    const standing = await creditStanding(stack.db, { consumerId: c.id });
    for (let i = 0; i < 3; i++) await alertOnBalance(alerts, { consumerId: c.id }, standing);
    const low = () => stack.db.alert.findMany({ where: { consumerId: c.id, type: "credits.low" } });
    assert.deepEqual((await low()).map((a) => (a.payload as { data: { threshold: string } }).data.threshold).sort(), [
      "0.0005",
      "0.0009",
    ]);
    await grant(c, { amount: "0.0001", kind: "purchase", note: "small top-up" });
    await alertOnBalance(alerts, { consumerId: c.id }, await creditStanding(stack.db, { consumerId: c.id }));
    assert.equal((await low()).length, 4, "a top-up that leaves the balance low tells again, once per threshold");
  });

  it("the sweep writes expiries that fell due and tells of credit expiring soon and expired unused, once per grant", async () => {
    const c = await newConsumer();
    const short = await grant(c, {
      amount: "2",
      kind: "promotion",
      expires_at: new Date(Date.now() + 1000).toISOString(),
    });
    const soon = await grant(c, {
      amount: "3",
      kind: "promotion",
      expires_at: new Date(Date.now() + 3 * 86_400_000).toISOString(),
    });
    const later = await grant(c, {
      amount: "4",
      kind: "purchase",
      expires_at: new Date(Date.now() + 30 * 86_400_000).toISOString(),
    });
    await new Promise((r) => setTimeout(r, 1100));
    const alerts = { db: stack.db, webhookQueue: stack.webhookQueue, config: stack.config };
    for (let i = 0; i < 2; i++) await sweepCredits(stack.db, alerts, new Date(), 7);
    const { rows } = await stack.pool.query(
      "SELECT kind::text, amount::text FROM credit_ledger WHERE grant_id = $1 ORDER BY id",
      [short.id],
    );
    assert.deepEqual(
      rows.map((r) => [r.kind, new Decimal(r.amount).toFixed()]),
      [
        ["grant", "2"],
        ["expiry", "-2"],
      ],
      "written once, however often the sweep runs",
    );
    const sent = await stack.db.alert.findMany({ where: { consumerId: c.id }, orderBy: { type: "asc" } });
    assert.deepEqual(
      sent.map((a) => [a.type, (a.payload as { data: { grant_id: string } }).data.grant_id]),
      [
        ["credits.expired", short.id],
        ["credits.expiring", soon.id],
      ],
    );
    assert.ok(later.id);
    const s = await credits(c);
    assert.equal(s.balance, "7");
    assert.equal(await ledgerSum(c), "7");
  });

  it("an invoice shows its usage, the credit applied per grant, and what is due; FOCUS carries the credit", async () => {
    const c = await newConsumer();
    const promo = await grant(c, { amount: "0.25", kind: "promotion", priority: 0 });
    const bought = await grant(c, { amount: "0.75", kind: "purchase" });
    // three calls of 0.4 each: 1.2 of usage, 1 of it paid by credit
    await meterEnvelopes(
      stack,
      [0, 1, 2].map(() => logOf(c, kongRequestId(), 400_000, 0)),
    );
    const period = await recordPeriod(
      stack.db,
      periodContaining(new Date(), stack.config.billing.period, stack.config.billing.timeZone),
    );
    const drafted = await draftInvoice(stack.db, {
      consumerId: c.id,
      periodId: period.id,
      settings: stack.config.billing,
      now: new Date(),
      finalize: true,
    });
    assert.equal(drafted.outcome, "finalized");
    const inv = (await admin(stack, "GET", `/v1/invoices/${drafted.invoiceId}`)).json();
    const credit = inv.lines
      .filter((l: { kind: string }) => l.kind === "credit")
      .map((l: { credit_grant_id: string; amount: string }) => [l.credit_grant_id, l.amount]);
    assert.deepEqual(credit, [
      [promo.id, "-0.25"],
      [bought.id, "-0.75"],
    ]);
    assert.equal(inv.credits_applied, "1");
    assert.equal(inv.subtotal, "0.2");
    assert.equal(inv.total, "0.2");
    const focus = await focusRows(stack.db, period.id, "tokenmeter", c.id);
    const credits = focus.filter((r) => r.ChargeCategory === "Credit");
    assert.deepEqual(
      credits.map((r) => r.BilledCost),
      ["-0.25", "-0.75"],
    );
    // drafting again claims nothing twice
    await draftInvoice(stack.db, {
      consumerId: c.id,
      periodId: period.id,
      settings: stack.config.billing,
      now: new Date(),
      finalize: false,
    });
    assert.equal((await admin(stack, "GET", `/v1/invoices/${drafted.invoiceId}`)).json().credits_applied, "1");
  });

  it("the CLI grants, voids and shows credit as the API does, with exit codes for mistakes", async () => {
    const c = await newConsumer();
    const env = {
      ...process.env,
      DATABASE_URL: stack.config.databaseUrl,
      REDIS_PREFIX: stack.config.redis.prefix,
      BILLING_TIMEZONE: "Europe/Berlin",
      LOG_LEVEL: "silent",
    };
    const cli = (...args: string[]) =>
      promisify(execFile)("node", ["--import", "tsx", "scripts/credits.ts", ...args], {
        env,
        cwd: new URL("../..", import.meta.url).pathname,
      }).then(
        (r) => ({ code: 0, out: r.stdout, err: r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout, err: e.stderr }),
      );
    const granted = await cli(
      "grant",
      c.name,
      "12.5",
      "--kind",
      "promotion",
      "--expires-at",
      "2099-01-01",
      "--note",
      "launch",
    );
    assert.equal(granted.code, 0, granted.err);
    assert.match(granted.out, /granted 12.5 USD/);
    assert.equal((await credits(c)).balance, "12.5");
    const id = (await credits(c)).grants[0].id;
    assert.equal((await credits(c)).grants[0].expires_at, "2098-12-31T23:00:00.000Z");
    const bad = await cli("grant", c.name, "0");
    assert.equal(bad.code, 2);
    assert.match(bad.err, /^amount: must be more than 0/);
    assert.equal((await cli("grant", c.name, "-3")).code, 2);
    assert.equal((await cli("grant", c.name, "1", "--priority", "-1")).code, 2);
    assert.equal((await cli("grant", "no-such-consumer", "1")).code, 2);
    assert.equal((await cli("void", c.name, id)).code, 2, "a void needs a reason");
    const voided = await cli("void", c.name, id, "--reason", "campaign cancelled");
    assert.equal(voided.code, 0, voided.err);
    assert.equal((await credits(c)).balance, "0");
    const ledger = await cli("ledger", c.name);
    assert.match(ledger.out, /grant\s+12.5/);
    assert.match(ledger.out, /void\s+-12.5/);
  });

  it("a tag's pool pays for the calls of its consumers that have no credit of their own", async () => {
    const tag = `pool-${randomUUID().slice(0, 8)}`;
    const tagged = async (own: boolean) => {
      const kongId = randomUUID();
      const name = `pooled-${kongId.slice(0, 8)}`;
      const res = await admin(stack, "POST", "/v1/consumers", {
        username: name,
        kong_id: kongId,
        metadata: { input_cost_per_token: "0.000001", output_cost_per_token: "0.000003", tags: ["other", tag] },
      });
      assert.equal(res.statusCode, 201, res.body);
      const c = { id: res.json().id as string, kongId, name };
      if (own) await grant(c, { amount: "1", kind: "purchase" });
      return c;
    };
    const [a, b, withOwn] = [await tagged(false), await tagged(false), await tagged(true)];
    const pooled = await admin(stack, "POST", `/v1/tags/${tag}/credits/grants`, {
      amount: "0.01",
      kind: "promotion",
      note: "team launch",
    });
    assert.equal(pooled.statusCode, 201, pooled.body);
    const poolGrant = pooled.json().grant.id;
    await meterEnvelopes(stack, [
      logOf(a, kongRequestId(), 700, 40),
      logOf(b, kongRequestId(), 1000, 0),
      logOf(withOwn, kongRequestId(), 700, 40),
    ]);
    const pool = (await admin(stack, "GET", `/v1/tags/${tag}/credits`)).json();
    assert.equal(pool.balance, "0.00818", "0.01 less a's 0.00082 and b's 0.001");
    assert.equal(pool.consumers, 3);
    const seenByA = await credits(a);
    assert.deepEqual([seenByA.pool, seenByA.balance], [tag, "0.00818"]);
    assert.equal((await credits(withOwn)).balance, "0.99918", "a consumer with credit of its own burns its own");
    assert.equal((await credits(withOwn)).pool, undefined);
    const ofA = (await admin(stack, "GET", `/v1/consumers/${a.id}/credits/ledger`)).json().entries;
    assert.deepEqual(
      ofA.map((e: { kind: string; amount: string; grant_id: string }) => [e.kind, e.amount, e.grant_id]),
      [["burn", "-0.00082", poolGrant]],
      "a's ledger shows its calls' burns of the pool",
    );
    const poolLedger = (await admin(stack, "GET", `/v1/tags/${tag}/credits/ledger`)).json().entries;
    assert.deepEqual(
      poolLedger.map((e: { kind: string }) => e.kind),
      ["grant", "burn", "burn"],
    );
    const { rows } = await stack.pool.query(
      "SELECT coalesce(sum(amount), 0)::text AS s FROM credit_ledger WHERE grant_id = $1",
      [poolGrant],
    );
    assert.equal(new Decimal(rows[0].s).toFixed(), "0.00818", "the pool's balance is its ledger's sum");
    const voided = await admin(stack, "POST", `/v1/tags/${tag}/credits/grants/${poolGrant}/void`, {
      reason: "end of launch",
    });
    assert.equal(voided.statusCode, 200, voided.body);
    assert.equal(voided.json().balance, "0");
  });

  it("refuses bad grants with the field named, and changes nothing", async () => {
    const c = await newConsumer();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ amount: "0", kind: "purchase" }, "amount"],
      [{ amount: "-1", kind: "purchase" }, "amount"],
      [{ amount: "1e3", kind: "purchase" }, "amount"],
      [{ amount: "99999999999", kind: "purchase" }, "amount"],
      [{ amount: "1", kind: "gift" }, "kind"],
      [{ amount: "1", kind: "purchase", priority: -1 }, "priority"],
      [{ amount: "1", kind: "purchase", priority: 1.5 }, "priority"],
      [{ amount: "1", kind: "purchase", expires_at: "2020-13-01" }, "expires_at"],
      [{ amount: "1", kind: "purchase", effective_at: "2030-01-02", expires_at: "2030-01-01" }, "expires_at"],
    ];
    for (const [body, field] of cases) {
      const res = await admin(stack, "POST", `/v1/consumers/${c.id}/credits/grants`, body);
      assert.equal(res.statusCode, 400, `${JSON.stringify(body)}: ${res.body}`);
      assert.match(res.json().error.message, new RegExp(field), JSON.stringify(body));
    }
    assert.equal((await credits(c)).grants.length, 0);
    assert.equal(
      (await admin(stack, "POST", `/v1/consumers/${randomUUID()}/credits/grants`, { amount: "1", kind: "purchase" }))
        .statusCode,
      404,
    );
  });

  it("a consumer reads its own credit with its key, and no one else's", async () => {
    const [c, other] = [await newConsumer(), await newConsumer()];
    await grant(c, { amount: "5", kind: "purchase" });
    const key = (await admin(stack, "POST", `/v1/consumers/${c.id}/api-keys`, {})).json().key;
    const read = (url: string) => stack.app.inject({ method: "GET", url, headers: { authorization: `Bearer ${key}` } });
    assert.equal((await read(`/v1/consumers/${c.id}/credits`)).json().balance, "5");
    // the usage and budget answers carry the balance too
    assert.deepEqual((await read(`/v1/consumers/${c.id}/usage`)).json().credit, {
      balance: "5",
      currency: "USD",
      prepaid: false,
      next_expiry: null,
    });
    assert.equal(
      (await admin(stack, "GET", `/v1/consumers/${other.id}/usage`)).json().credit,
      null,
      "never granted credit",
    );
    assert.equal((await read(`/v1/consumers/${c.id}/credits/ledger`)).statusCode, 200);
    assert.equal((await read(`/v1/consumers/${other.id}/credits`)).statusCode, 404);
    const write = await stack.app.inject({
      method: "POST",
      url: `/v1/consumers/${c.id}/credits/grants`,
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      payload: { amount: "1", kind: "purchase" },
    });
    assert.equal(write.statusCode, 403);
  });
});
