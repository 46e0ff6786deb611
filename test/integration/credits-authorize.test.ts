// Prepaid credit at authorize, end to end: 200 concurrent calls from a consumer whose credit pays
// for about 50, the admitted calls metered through Kafka, every hold settled, the credit never
// overdrawn, and one credits.exhausted alert delivered by a signed webhook.
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { Redis } from "ioredis";
import { HoldLedger } from "../../src/budgets/hold-ledger.ts";
import { startApi } from "../../src/composition.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { Decimal } from "../../src/domain/money.ts";
import { CHAT_REQUEST, kongLog } from "../fixtures/kong-logs.ts";
import { admin, INGEST_SECRET, ingest, startStack, type Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";
import { WebhookReceiver } from "../helpers/webhook-receiver.ts";

let stack: Stack;
let receiver: WebhookReceiver;

async function prepaidConsumer(credit: string) {
  const kongId = randomUUID();
  const username = `prepaid-${kongId.slice(0, 8)}`;
  const res = await admin(stack, "POST", "/v1/consumers", {
    username,
    kong_id: kongId,
    metadata: { input_cost_per_token: "0.000001", output_cost_per_token: "0.000002" },
  });
  assert.equal(res.statusCode, 201, res.body);
  const id = res.json().id as string;
  assert.equal(
    (await admin(stack, "POST", `/v1/consumers/${id}/credits/grants`, { amount: credit, kind: "purchase" })).statusCode,
    201,
  );
  assert.equal((await admin(stack, "PUT", `/v1/consumers/${id}/credits/settings`, { prepaid: true })).statusCode, 200);
  return { id, kongId, username };
}

async function authorize(username: string, requestId: string, body: unknown = { ...CHAT_REQUEST, max_tokens: 100 }) {
  const res = await stack.app.inject({
    method: "POST",
    url: "/v1/gateway/authorize",
    headers: { authorization: `Bearer ${INGEST_SECRET}`, "content-type": "application/json" },
    payload: JSON.stringify({ consumer: { username }, body: JSON.stringify(body), request_id: requestId }),
  });
  assert.equal(res.statusCode, 200, res.body);
  return res.json();
}

before(async () => {
  receiver = new WebhookReceiver();
  const url = await receiver.start();
  stack = await startStack(
    {
      BILLING_TIMEZONE: "UTC",
      WEBHOOK_SECRET_KEY: randomBytes(32).toString("base64"),
      WEBHOOK_ALLOWED_NETWORKS: "127.0.0.1/32",
    },
    { webhooks: true },
  );
  const created = await admin(stack, "POST", "/v1/webhook-endpoints", { url, event_types: ["credits.exhausted"] });
  assert.equal(created.statusCode, 201, created.body);
  receiver.secret = created.json().secret;
});
after(async () => {
  await stack.close();
  await receiver.stop();
});

describe("prepaid credit at authorize", () => {
  it("200 concurrent calls against credit for about 50: never overdrawn, holds settle, one signed alert", async () => {
    const probe = await prepaidConsumer("1000");
    const hold = new Decimal(
      (await authorize(probe.username, randomBytes(16).toString("hex"))).checks.budget.hold_amount,
    );
    assert.ok(hold.gt(0));

    const credit = hold.times("50.5");
    const c = await prepaidConsumer(credit.toFixed());
    const ids = Array.from({ length: 200 }, () => randomBytes(16).toString("hex"));
    const decisions = await Promise.all(ids.map((id) => authorize(c.username, id)));
    const admitted = ids.filter((_, i) => decisions[i].allow);
    // 50 whole calls, and the half left over may still pay for one call with its output capped to fit
    assert.ok(admitted.length >= 50 && admitted.length <= 51, `${admitted.length} admitted`);
    for (const d of decisions.filter((x) => !x.allow)) {
      assert.equal(d.status, 402);
      assert.equal(d.reason.code, "credits_exhausted");
      assert.equal(d.reason.balance, credit.toFixed());
      assert.ok(new Decimal(d.reason.needed).gt(d.reason.available));
    }
    const ledger = new HoldLedger(stack.redis, stack.config.redis.prefix);
    const during = await ledger.read({ owner: c.id, periodKey: "prepaid" });
    assert.equal(during!.holds, admitted.length);
    const shown = (await admin(stack, "GET", `/v1/consumers/${c.id}/credits`)).json().held;
    assert.deepEqual(
      shown,
      { amount: new Decimal(during!.heldMoney).div(1_000_000).toFixed(), calls: admitted.length },
      "the credit answer shows what is held",
    );
    assert.ok(new Decimal(during!.heldMoney).div(1_000_000).lte(credit), "never more held than the balance");

    const res = await ingest(
      stack,
      admitted.map((requestId) => kongLog({ requestId, consumer: { id: c.kongId, username: c.username } })),
    );
    assert.equal(res.statusCode, 202, res.body);
    await waitFor(
      async () => (await stack.db.usageEvent.count({ where: { consumerId: c.id } })) === admitted.length,
      30_000,
      "the admitted calls metered",
    );
    await waitFor(
      async () => (await ledger.read({ owner: c.id, periodKey: "prepaid" }))?.holds === 0,
      15_000,
      "every hold settled",
    );

    const events = await stack.db.usageEvent.findMany({ where: { consumerId: c.id } });
    const spent = events.reduce((sum, e) => sum.plus(e.cost.toFixed()), new Decimal(0));
    const balance = (await admin(stack, "GET", `/v1/consumers/${c.id}/credits`)).json().balance;
    assert.equal(balance, credit.minus(spent).toFixed(), "every call was paid by credit, exactly");
    assert.ok(new Decimal(balance).gte(0));
    const { rows } = await stack.pool.query(
      "SELECT coalesce(sum(amount), 0)::text AS s FROM credit_ledger WHERE consumer_id = $1 AND at <= now()",
      [c.id],
    );
    assert.equal(new Decimal(rows[0].s).toFixed(), balance, "the balance is the ledger's sum");

    await waitFor(() => receiver.ofType("credits.exhausted").length >= 1, 20_000, "the alert");
    const got = receiver.ofType("credits.exhausted").filter((r) => r.json.data.consumer_id === c.id);
    assert.equal(got.length, 1);
    assert.ok(got[0]!.signatureValid);
    const alerts = (await admin(stack, "GET", "/v1/alerts?type=credits.exhausted"))
      .json()
      .alerts.filter((a: { consumer_id: string }) => a.consumer_id === c.id);
    assert.equal(alerts.length, 1, "one alert however many calls were refused");
  });

  it("prepaid consumers sharing a tag's pool never overdraw it together", async () => {
    const tag = `shared-${randomUUID().slice(0, 8)}`;
    const members = await Promise.all(
      [0, 1].map(async () => {
        const kongId = randomUUID();
        const username = `member-${kongId.slice(0, 8)}`;
        const res = await admin(stack, "POST", "/v1/consumers", {
          username,
          kong_id: kongId,
          metadata: { input_cost_per_token: "0.000001", output_cost_per_token: "0.000002", tags: [tag] },
        });
        assert.equal(res.statusCode, 201, res.body);
        assert.equal(
          (await admin(stack, "PUT", `/v1/consumers/${res.json().id}/credits/settings`, { prepaid: true })).statusCode,
          200,
        );
        return { id: res.json().id as string, username };
      }),
    );
    const probe = await prepaidConsumer("1000");
    const hold = new Decimal(
      (await authorize(probe.username, randomBytes(16).toString("hex"))).checks.budget.hold_amount,
    );
    const credit = hold.times("20.5");
    assert.equal(
      (await admin(stack, "POST", `/v1/tags/${tag}/credits/grants`, { amount: credit.toFixed(), kind: "purchase" }))
        .statusCode,
      201,
    );
    const decisions = await Promise.all(
      Array.from({ length: 60 }, (_, i) => authorize(members[i % 2]!.username, randomBytes(16).toString("hex"))),
    );
    const admitted = decisions.filter((d) => d.allow);
    assert.ok(admitted.length >= 20 && admitted.length <= 21, `${admitted.length} admitted`);
    assert.ok(
      decisions.filter((d) => !d.allow).every((d) => d.status === 402 && d.reason.code === "credits_exhausted"),
    );
    const ledger = new HoldLedger(stack.redis, stack.config.redis.prefix);
    const held = await ledger.read({ owner: `tag:${tag}`, periodKey: "prepaid" });
    assert.equal(held!.holds, admitted.length, "one ledger for the pool, whichever member calls");
    assert.ok(new Decimal(held!.heldMoney).div(1_000_000).lte(credit));
  });

  it("a budget and credit combine: a call must fit both, and whichever cannot hold it answers", async () => {
    const c = await prepaidConsumer("1");
    // a day's budget below what the call's input alone costs: no output cap fits it, so the budget
    // refuses (429) though the credit could pay
    const set = await admin(stack, "PUT", `/v1/consumers/${c.id}/budget`, {
      period: "daily",
      amount: "0.00001",
      cap_output: "off",
    });
    assert.equal(set.statusCode, 200, set.body);
    const byBudget = await authorize(c.username, randomBytes(16).toString("hex"));
    assert.deepEqual([byBudget.status, byBudget.reason.code], [429, "budget_exhausted"]);
    // a budget far above the credit: the credit refuses (402) once it is spent, and the budget's hold is given back
    assert.equal(
      (
        await admin(stack, "PUT", `/v1/consumers/${c.id}/budget`, {
          period: "daily",
          amount: "1000",
          cap_output: "off",
        })
      ).statusCode,
      200,
    );
    const poor = await prepaidConsumer("0.00001");
    assert.equal(
      (
        await admin(stack, "PUT", `/v1/consumers/${poor.id}/budget`, {
          period: "daily",
          amount: "1000",
          cap_output: "off",
        })
      ).statusCode,
      200,
    );
    const byCredit = await authorize(poor.username, randomBytes(16).toString("hex"));
    assert.deepEqual([byCredit.status, byCredit.reason.code], [402, "credits_exhausted"]);
    const budget = (await admin(stack, "GET", `/v1/consumers/${poor.id}/budget`)).json();
    assert.equal(budget.held.calls, 0, "the budget's hold was released when the credit refused");
    assert.equal(budget.credit.balance, "0.00001", "the budget answer carries the balance");
  });

  it("a top-up admits calls again at once; out of prepaid mode nothing is held", async () => {
    // less than the input alone costs: no output cap makes the call fit
    const c = await prepaidConsumer("0.00001");
    const refused = await authorize(c.username, randomBytes(16).toString("hex"));
    assert.equal(refused.status, 402);
    assert.equal(
      (await admin(stack, "POST", `/v1/consumers/${c.id}/credits/grants`, { amount: "5", kind: "purchase" }))
        .statusCode,
      201,
    );
    assert.equal((await authorize(c.username, randomBytes(16).toString("hex"))).allow, true);
    assert.equal(
      (await admin(stack, "PUT", `/v1/consumers/${c.id}/credits/settings`, { prepaid: false })).statusCode,
      200,
    );
    const free = await authorize(c.username, randomBytes(16).toString("hex"));
    assert.equal(free.allow, true);
    assert.equal(free.checks.budget, undefined, "no credit hold for a consumer out of prepaid mode");
  });

  it("credit that expires stops paying at its instant, without a call or a fold in between", async () => {
    const c = await prepaidConsumer("0.00001");
    const expires = new Date(Date.now() + 1500);
    assert.equal(
      (
        await admin(stack, "POST", `/v1/consumers/${c.id}/credits/grants`, {
          amount: "5",
          kind: "promotion",
          expires_at: expires.toISOString(),
        })
      ).statusCode,
      201,
    );
    assert.equal((await authorize(c.username, randomBytes(16).toString("hex"))).allow, true);
    await new Promise((r) => setTimeout(r, Math.max(0, expires.getTime() - Date.now()) + 100));
    const after = await authorize(c.username, randomBytes(16).toString("hex"));
    assert.equal(after.status, 402, JSON.stringify(after.reason));
    assert.equal(after.reason.balance, "0.00001");
  });

  it("without Redis, closed reads the balance from PostgreSQL; open lets calls through", async () => {
    const away = new Redis("redis://127.0.0.1:6399", {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    away.on("error", () => {});
    const appWith = (redisDown: "open" | "closed") =>
      startApi({
        ...stack,
        config: { ...stack.config, budgets: { ...stack.config.budgets, redisDown } },
        redis: away,
        logger: createLogger("silent"),
      });
    const [closed, open] = [await appWith("closed"), await appWith("open")];
    try {
      const ask = async (app: FastifyInstance, username: string) =>
        (
          await app.inject({
            method: "POST",
            url: "/v1/gateway/authorize",
            headers: { authorization: `Bearer ${INGEST_SECRET}` },
            payload: { consumer: { username }, body: JSON.stringify({ ...CHAT_REQUEST, max_tokens: 100 }) },
          })
        ).json();
      const rich = await prepaidConsumer("5");
      const first = await ask(closed, rich.username);
      assert.deepEqual([first.allow, first.checks.budget.budget_source], [true, "committed"]);
      const poor = await prepaidConsumer("0.00001");
      const refused = await ask(closed, poor.username);
      assert.deepEqual(
        [refused.allow, refused.status, refused.reason.code, refused.reason.balance],
        [false, 402, "credits_exhausted", "0.00001"],
      );
      const through = await ask(open, poor.username);
      assert.deepEqual([through.allow, through.checks.budget.budget_source], [true, "unchecked"]);
    } finally {
      await closed.close();
      await open.close();
      away.disconnect();
    }
  });
});
