// Budgets under concurrency, end to end: 200 concurrent authorize calls against a budget that holds
// about 50, the admitted calls metered through Kafka, their holds settled, committed spend never
// above the limit, and exactly one budget.exhausted alert delivered by a signed webhook that the
// receiver refuses once and gets again.
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import { Redis } from "ioredis";
import type { Config } from "../../src/config.ts";
import { Decimal } from "../../src/domain/money.ts";
import { startApi } from "../../src/composition.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { CHAT_REQUEST, kongLog } from "../fixtures/kong-logs.ts";
import { admin, INGEST_SECRET, ingest, startStack, type Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";
import { WebhookReceiver } from "../helpers/webhook-receiver.ts";

const PRICES = { input_cost_per_token: "0.000001", output_cost_per_token: "0.000002" };
const MAX_TOKENS = 100;

let stack: Stack;
let receiver: WebhookReceiver;
let endpointId: string;

async function newConsumer(prefix: string, tags: string[] = []) {
  const kongId = randomUUID();
  const username = `${prefix}-${kongId.slice(0, 8)}`;
  const res = await admin(stack, "POST", "/v1/consumers", { username, kong_id: kongId, metadata: { ...PRICES, tags } });
  assert.equal(res.statusCode, 201, res.body);
  return { id: res.json().id as string, kongId, username };
}

// these tests count exactly how many whole calls a budget holds, so none is capped to fit (that is tested on its own)
const setBudget = (consumerId: string, body: object) =>
  admin(stack, "PUT", `/v1/consumers/${consumerId}/budget`, { cap_output: "off", ...body });

async function authorize(
  username: string,
  requestId?: string,
  body: unknown = { ...CHAT_REQUEST, max_tokens: MAX_TOKENS },
) {
  const res = await stack.app.inject({
    method: "POST",
    url: "/v1/gateway/authorize",
    headers: { authorization: `Bearer ${INGEST_SECRET}`, "content-type": "application/json" },
    payload: JSON.stringify({
      consumer: { username },
      body: JSON.stringify(body),
      ...(requestId ? { request_id: requestId } : {}),
    }),
  });
  assert.equal(res.statusCode, 200, res.body);
  return res.json();
}

before(async () => {
  receiver = new WebhookReceiver([500]);
  const url = await receiver.start();
  // the receiver listens on loopback, which webhooks reach only when the operator allows it
  stack = await startStack(
    {
      BILLING_TIMEZONE: "UTC",
      WEBHOOK_SECRET_KEY: randomBytes(32).toString("base64"),
      WEBHOOK_BACKOFF_MS: "300",
      WEBHOOK_ALLOWED_NETWORKS: "127.0.0.1/32",
    },
    { webhooks: true },
  );
  const created = await admin(stack, "POST", "/v1/webhook-endpoints", {
    url,
    event_types: ["budget.exhausted"],
    description: "ops pager",
  });
  assert.equal(created.statusCode, 201, created.body);
  receiver.secret = created.json().secret;
  endpointId = created.json().id;
});
after(async () => {
  await stack.close();
  await receiver.stop();
});

describe("budgets: hold and settle", () => {
  it("200 concurrent calls against a budget for about 50: committed spend stays within it, holds settle, one signed alert", async () => {
    // what one call holds, read from a consumer whose budget is far from any limit
    const probe = await newConsumer("probe");
    assert.equal((await setBudget(probe.id, { period: "daily", amount: "1000" })).statusCode, 200);
    const hold = new Decimal((await authorize(probe.username)).checks.budget.hold_amount);
    assert.ok(hold.gt(0));

    const c = await newConsumer("capped");
    const limit = hold.times("50.5");
    const set = await setBudget(c.id, { period: "daily", amount: limit.toFixed(), thresholds: [50, 80] });
    assert.equal(set.statusCode, 200, set.body);

    const requestIds = Array.from({ length: 200 }, () => randomBytes(16).toString("hex"));
    const decisions = await Promise.all(requestIds.map((id) => authorize(c.username, id)));
    const admitted = requestIds.filter((_, i) => decisions[i].allow);
    assert.equal(admitted.length, 50, "exactly as many calls as the budget holds");
    for (const d of decisions.filter((x) => !x.allow)) {
      assert.equal(d.status, 429);
      assert.equal(d.reason.code, "budget_exhausted");
      assert.equal(d.reason.limit, limit.toFixed());
    }
    const during = (await admin(stack, "GET", `/v1/consumers/${c.id}/budget`)).json();
    assert.equal(during.held.calls, 50);
    assert.ok(new Decimal(during.held.amount).lte(limit));

    // the gateway's logs of the admitted calls, metered through Kafka
    const started = Date.now();
    const res = await ingest(
      stack,
      admitted.map((requestId) =>
        kongLog({ requestId, consumer: { id: c.kongId, username: c.username }, startedAt: started }),
      ),
    );
    assert.equal(res.statusCode, 202, res.body);
    await waitFor(
      async () => (await stack.db.usageEvent.count({ where: { consumerId: c.id } })) === 50,
      30_000,
      "50 metered events",
    );

    let last: unknown;
    const settled = await waitFor(
      async () => {
        const b = (await admin(stack, "GET", `/v1/consumers/${c.id}/budget`)).json();
        last = b;
        return b.held.calls === 0 && b.held.amount === "0" ? b : undefined;
      },
      15_000,
      "every hold settled",
    ).catch(async (err: Error) => {
      const entries = await stack.redis.hgetall(
        `${stack.config.redis.prefix}:budget:{${c.id}:${during.current_period.key}}:entries`,
      );
      throw new Error(
        `${err.message}: ${JSON.stringify(last)} ${JSON.stringify(Object.values(entries).slice(0, 5))} ${Object.keys(entries).length}`,
      );
    });
    const events = await stack.db.usageEvent.findMany({ where: { consumerId: c.id } });
    const spent = events.reduce((sum, e) => sum.plus(e.cost.toFixed()), new Decimal(0));
    assert.equal(settled.committed.amount, spent.toFixed(), "committed is the metered cost, exactly");
    assert.ok(spent.lte(limit), `committed ${spent} is within the limit ${limit}`);
    assert.equal(settled.remaining.amount, limit.minus(spent).toFixed());

    // one budget.exhausted alert, delivered on the second attempt with the same id and a valid signature each time
    await waitFor(() => receiver.ofType("budget.exhausted").length >= 2, 20_000, "the alert and its retry");
    const got = receiver.ofType("budget.exhausted");
    assert.deepEqual(
      got.map((r) => r.answered),
      [500, 204],
    );
    assert.ok(
      got.every((r) => r.signatureValid),
      "every delivery is signed with the endpoint's secret",
    );
    assert.equal(got[0]!.headers["webhook-id"], got[1]!.headers["webhook-id"], "a retry is the same message");
    assert.equal(got[0]!.body, got[1]!.body);
    assert.equal(got[0]!.json.data.consumer_id, c.id);
    const alerts = (await admin(stack, "GET", "/v1/alerts?type=budget.exhausted"))
      .json()
      .alerts.filter((a: { consumer_id: string }) => a.consumer_id === c.id);
    assert.equal(alerts.length, 1, "one alert however many calls were refused");

    const log = await waitFor(
      async () => {
        const d = (await admin(stack, "GET", `/v1/webhook-endpoints/${endpointId}/deliveries`))
          .json()
          .deliveries.find((x: { alert_id: string }) => x.alert_id === alerts[0].id);
        return d?.status === "delivered" ? d : undefined;
      },
      10_000,
      "the delivery logged as delivered",
    );
    assert.equal(log.attempts, 2);
    assert.deepEqual(
      log.attempt_log.map((a: { status_code: number }) => a.status_code),
      [500, 204],
    );
    assert.equal(log.next_retry_at, null);

    // thresholds crossed by committed spend are alerted once each at most
    const thresholds = (await admin(stack, "GET", "/v1/alerts?type=budget.threshold_crossed"))
      .json()
      .alerts.filter((a: { consumer_id: string }) => a.consumer_id === c.id);
    const percents = thresholds.map(
      (a: { body: { data: { threshold_percent: number } } }) => a.body.data.threshold_percent,
    );
    assert.equal(new Set(percents).size, percents.length);
    const reached = [50, 80].filter((t) => spent.times(100).gte(limit.times(t)));
    assert.deepEqual([...percents].sort(), reached);
  });

  it("a hold the gateway plugin named in the log settles by that name, whatever the log's request id", async () => {
    const c = await newConsumer("named");
    await setBudget(c.id, { period: "daily", amount: "1" });
    assert.equal((await authorize(c.username, "hold-from-plugin")).allow, true);
    const entry = {
      ...kongLog({ consumer: { id: c.kongId, username: c.username }, startedAt: Date.now() }),
      tokenmeter: { hold_id: "hold-from-plugin" },
    };
    assert.equal((await ingest(stack, [entry])).statusCode, 202);
    await waitFor(
      async () => {
        const b = (await admin(stack, "GET", `/v1/consumers/${c.id}/budget`)).json();
        return b.held.calls === 0 && b.committed.amount !== "0";
      },
      20_000,
      "the named hold settled",
    );
  });

  it("a tag's budget is shared by its consumers: concurrent calls from two of them never pass it, and both settle it", async () => {
    const probe = await newConsumer("tag-probe");
    await setBudget(probe.id, { period: "daily", amount: "1000" });
    const hold = new Decimal((await authorize(probe.username)).checks.budget.hold_amount);
    const tag = `team-${randomBytes(3).toString("hex")}`;
    const [a, b] = [await newConsumer("tag-a", [tag]), await newConsumer("tag-b", [tag])];
    const limit = hold.times("10.5");
    const set = await admin(stack, "PUT", `/v1/tags/${tag}/budget`, {
      period: "daily",
      amount: limit.toFixed(),
      cap_output: "off",
    });
    assert.equal(set.statusCode, 200, set.body);
    await setBudget(a.id, { period: "daily", amount: "1000" }); // its own budget, far from its limit: both must hold

    const calls = Array.from({ length: 40 }, (_, i) => ({ who: i % 2 ? a : b, id: randomBytes(16).toString("hex") }));
    const decisions = await Promise.all(calls.map((c) => authorize(c.who.username, c.id)));
    const admitted = calls.filter((_, i) => decisions[i].allow);
    assert.equal(admitted.length, 10, "the tag's budget holds ten calls, whoever makes them");
    const refused = decisions.filter((d) => !d.allow);
    assert.ok(
      refused.every((d) => d.reason.code === "budget_exhausted" && d.reason.tag === tag),
      JSON.stringify(refused[0]),
    );
    const own = (await admin(stack, "GET", `/v1/consumers/${a.id}/budget`)).json();
    assert.equal(
      own.held.calls,
      admitted.filter((c) => c.who === a).length,
      "a refused call gave back the hold its own budget had taken",
    );

    const started = Date.now();
    await ingest(
      stack,
      admitted.map((c) =>
        kongLog({ requestId: c.id, consumer: { id: c.who.kongId, username: c.who.username }, startedAt: started }),
      ),
    );
    const shared = await waitFor(
      async () => {
        const t = (await admin(stack, "GET", `/v1/tags/${tag}/budget`)).json();
        return t.held?.calls === 0 && t.committed.amount !== "0" ? t : undefined;
      },
      30_000,
      "the tag's holds settled",
    );
    const events = await stack.db.usageEvent.findMany({ where: { consumerId: { in: [a.id, b.id] } } });
    assert.equal(events.length, 10);
    const spent = events.reduce((sum, e) => sum.plus(e.cost.toFixed()), new Decimal(0));
    assert.equal(shared.committed.amount, spent.toFixed(), "committed is both consumers' metered cost");
    assert.ok(spent.lte(limit));
    assert.equal(shared.consumers, 2);
    assert.equal((await admin(stack, "GET", `/v1/tags/${tag}/budget/versions`)).json().versions.length, 1);
  });

  it("a call the TDL check refuses gives its hold back at once", async () => {
    const c = await newConsumer("tdl");
    await admin(stack, "PATCH", `/v1/consumers/${c.id}`, {
      metadata: {
        tdl_matrix: Object.fromEntries(
          Array.from({ length: 12 }, (_, i) => [`T${i + 1}`, [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]]),
        ),
      },
    });
    await setBudget(c.id, { period: "daily", amount: "1" });
    assert.equal((await authorize(c.username, "tdl-1")).allow, true);
    const refused = await authorize(c.username, "tdl-2");
    assert.equal(refused.reason.code, "tdl_limit_reached");
    const b = (await admin(stack, "GET", `/v1/consumers/${c.id}/budget`)).json();
    assert.equal(b.held.calls, 1, "only the admitted call holds");
  });

  it("a token budget refuses a call whose input and maximum output do not fit", async () => {
    const c = await newConsumer("tokens");
    const first = await authorize(c.username); // no budget yet: nothing held
    assert.equal(first.checks.budget, undefined);
    await setBudget(c.id, { period: "weekly", tokens: 150 });
    const held = await authorize(c.username, undefined, { ...CHAT_REQUEST, max_tokens: 50 });
    assert.equal(held.allow, true, JSON.stringify(held));
    const refused = await authorize(c.username, undefined, { ...CHAT_REQUEST, max_tokens: 100 });
    assert.deepEqual([refused.allow, refused.status, refused.reason.code], [false, 429, "budget_exhausted"]);
    assert.equal(refused.reason.limit_tokens, "150");
  });
});

describe("budgets: never accepted and then ignored", () => {
  it("a budget for a consumer authorize answers before checking budgets (not configured) is refused with 409", async () => {
    const c = await stack.db.consumer.create({
      data: { username: `from-logs-${randomUUID().slice(0, 8)}`, configured: false, tdlMatrix: {} },
    });
    const res = await setBudget(c.id, { period: "daily", amount: "10" });
    assert.deepEqual([res.statusCode, res.json().error.field], [409, "consumer"], res.body);
    assert.equal(
      (await admin(stack, "GET", `/v1/consumers/${c.id}/budget/versions`)).json().versions.length,
      0,
      "nothing recorded",
    );
  });
});

describe("budgets: numbers the caller controls", () => {
  it("a negative, zero, fractional or non-number output cap is refused before anything is held", async () => {
    const c = await newConsumer("hostile-cap");
    await setBudget(c.id, { period: "daily", amount: "0.001" });
    const caps: Array<Record<string, unknown>> = [
      { max_tokens: -1_000_000 },
      { max_tokens: 0 },
      { max_completion_tokens: 2.5 },
      { max_output_tokens: "-1" },
      { max_tokens: 10, max_completion_tokens: -1 },
      { options: { num_predict: -1 } },
      { n: -2, max_tokens: 10 },
      { max_tokens: 1e300 },
    ];
    for (const cap of caps) {
      const d = await authorize(c.username, undefined, { ...CHAT_REQUEST, max_tokens: undefined, ...cap });
      assert.deepEqual([d.allow, d.status, d.reason.code], [false, 403, "max_tokens_invalid"], JSON.stringify(cap));
      assert.match(d.reason.message, new RegExp(`^${d.reason.field.replace(".", "\\.")} `));
      assert.equal(d.checks.budget, undefined, "refused before the budget was asked");
    }
    const b = (await admin(stack, "GET", `/v1/consumers/${c.id}/budget`)).json();
    assert.deepEqual([b.held.calls, b.held.amount], [0, "0"]);
  });

  it("n completions hold n times the cap, and the largest of several cap fields is held", async () => {
    const c = await newConsumer("choices");
    await setBudget(c.id, { period: "daily", amount: "1000" });
    const one = await authorize(c.username, undefined, { ...CHAT_REQUEST, max_tokens: 100 });
    const three = await authorize(c.username, undefined, { ...CHAT_REQUEST, max_tokens: 100, n: 3 });
    const both = await authorize(c.username, undefined, {
      ...CHAT_REQUEST,
      max_tokens: 10,
      max_completion_tokens: 100,
    });
    const input = one.checks.budget.hold_tokens - 100;
    assert.equal(three.checks.budget.hold_tokens, input + 300);
    assert.equal(both.checks.budget.hold_tokens, one.checks.budget.hold_tokens);
    // output is the dearer side: 200 more output tokens at 0.000002
    assert.equal(new Decimal(three.checks.budget.hold_amount).minus(one.checks.budget.hold_amount).toFixed(), "0.0004");
  });
});

describe("budgets: expiry and Redis away", () => {
  const apps: FastifyInstance[] = [];
  after(async () => {
    for (const a of apps) await a.close();
  });
  async function appWith(budgets: Partial<Config["budgets"]>, redis?: Redis) {
    const config = { ...stack.config, budgets: { ...stack.config.budgets, ...budgets } };
    const app = await startApi({ ...stack, config, redis: redis ?? stack.redis, logger: createLogger("silent") });
    apps.push(app);
    return app;
  }
  const ask = async (app: FastifyInstance, username: string, requestId?: string) =>
    (
      await app.inject({
        method: "POST",
        url: "/v1/gateway/authorize",
        headers: { authorization: `Bearer ${INGEST_SECRET}` },
        payload: {
          consumer: { username },
          body: JSON.stringify({ ...CHAT_REQUEST, max_tokens: MAX_TOKENS }),
          request_id: requestId,
        },
      })
    ).json();

  it("a hold no event settles is released when it expires", async () => {
    const app = await appWith({ holdTtlMs: 1000 });
    const c = await newConsumer("expiry");
    const one = new Decimal(
      (await ask(app, (await newConsumer("expiry-probe")).username)).checks.budget?.hold_amount ?? "0",
    );
    assert.equal(one.toFixed(), "0", "no budget, no hold");
    await setBudget(c.id, { period: "daily", amount: "0.0003" }); // one call holds about 0.000227
    assert.equal((await ask(app, c.username, "lost-1")).allow, true);
    assert.equal((await ask(app, c.username, "lost-2")).reason?.code, "budget_exhausted");
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await ask(app, c.username, "lost-3")).allow, true, "the first hold expired");
  });

  it("closed (the default): without Redis the check reads committed spend from PostgreSQL; open lets calls through", async () => {
    const away = new Redis("redis://127.0.0.1:6399", {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    away.on("error", () => {});
    const c = await newConsumer("offline");
    await setBudget(c.id, { period: "daily", amount: "0.00025" }); // one call holds about 0.000227, costs about 0.000041
    const closed = await appWith({}, away);
    const first = await ask(closed, c.username);
    assert.deepEqual(
      [first.allow, first.checks.budget.budget_source, first.checks.budget.committed],
      [true, "committed", "0"],
    );
    // spend the budget: one metered call costs what its log says
    await ingest(stack, [kongLog({ consumer: { id: c.kongId, username: c.username }, startedAt: Date.now() })]);
    await waitFor(
      async () => (await stack.db.usageEvent.count({ where: { consumerId: c.id } })) === 1,
      20_000,
      "the call metered",
    );
    const spent = (await stack.db.usageEvent.findFirstOrThrow({ where: { consumerId: c.id } })).cost.toFixed();
    const second = await ask(closed, c.username);
    assert.deepEqual(
      [second.allow, second.status, second.reason.code, second.reason.actual],
      [false, 429, "budget_exhausted", spent],
    );
    const open = await appWith({ redisDown: "open" }, away);
    const third = await ask(open, c.username);
    assert.deepEqual([third.allow, third.checks.budget.budget_source], [true, "unchecked"]);
    away.disconnect();
  });
});

describe("budgets: API", () => {
  it("versions every change, shows spend to the consumer itself, and refuses nonsense naming the field", async () => {
    const c = await newConsumer("api");
    const bad = [
      [{ period: "daily" }, "amount"],
      [{ period: "fortnight", amount: "10" }, "period"],
      [{ period: "daily", amount: "-1" }, "amount"],
      [{ period: "daily", amount: 1e-13 }, "amount"],
      [{ period: "daily", amount: "10", thresholds: [50, 50] }, "thresholds"],
      [{ period: "daily", amount: "10", thresholds: [120] }, "thresholds"],
      [{ period: "daily", tokens: 1.5 }, "tokens"],
      [{ period: "daily", amount: "10", hard: true }, "hard"],
    ] as const;
    for (const [body, field] of bad) {
      const res = await setBudget(c.id, body);
      assert.equal(res.statusCode, 400, `${JSON.stringify(body)} -> ${res.body}`);
      assert.ok(res.body.includes(field), `${JSON.stringify(body)}: the error names ${field}: ${res.body}`);
    }
    assert.equal(
      (await admin(stack, "GET", `/v1/consumers/${c.id}/budget/versions`)).json().versions.length,
      0,
      "nothing half-applied",
    );

    // "month" is the older spelling of "monthly": accepted, answered with the one name billing uses too
    const first = (await setBudget(c.id, { period: "month", amount: "25.50", thresholds: [80, 50] })).json();
    assert.equal(first.period, "monthly");
    const changed = (await setBudget(c.id, { period: "monthly", amount: "30" })).json();
    assert.equal(changed.version, 2);
    const versions = (await admin(stack, "GET", `/v1/consumers/${c.id}/budget/versions`)).json().versions;
    assert.deepEqual(
      versions.map((v: { amount: string; thresholds: number[] }) => [v.amount, v.thresholds]),
      [
        ["25.5", [50, 80]],
        ["30", []],
      ],
    );

    const key = (await admin(stack, "POST", `/v1/consumers/${c.id}/api-keys`, {})).json().key;
    const own = await stack.app.inject({
      method: "GET",
      url: `/v1/consumers/${c.id}/budget`,
      headers: { authorization: `Bearer ${key}` },
    });
    assert.equal(own.statusCode, 200);
    assert.deepEqual(
      [own.json().amount, own.json().remaining.amount, own.json().current_period.kind],
      ["30", "30", "monthly"],
    );
    const usage = await stack.app.inject({
      method: "GET",
      url: `/v1/consumers/${c.id}/usage`,
      headers: { authorization: `Bearer ${key}` },
    });
    assert.equal(usage.json().budget.remaining.amount, "30", "the usage API shows the budget too");
    const other = await newConsumer("other");
    await setBudget(other.id, { period: "daily", amount: "1" });
    const theirs = await stack.app.inject({
      method: "GET",
      url: `/v1/consumers/${other.id}/budget`,
      headers: { authorization: `Bearer ${key}` },
    });
    assert.equal(theirs.statusCode, 404, "another consumer's budget is not even said to exist");
    const change = await stack.app.inject({
      method: "PUT",
      url: `/v1/consumers/${c.id}/budget`,
      headers: { authorization: `Bearer ${key}` },
      payload: { period: "daily", amount: "1000" },
    });
    assert.equal(change.statusCode, 403, "a consumer cannot raise its own budget");

    const removed = await admin(stack, "DELETE", `/v1/consumers/${c.id}/budget`);
    assert.deepEqual([removed.statusCode, removed.json().removed], [200, true]);
    assert.equal((await admin(stack, "GET", `/v1/consumers/${c.id}/budget`)).statusCode, 404);
    assert.equal((await admin(stack, "DELETE", `/v1/consumers/${c.id}/budget`)).statusCode, 404);
    assert.equal((await authorize(c.username)).checks.budget, undefined, "a removed budget is no longer checked");
  });

  it("webhook endpoints: the secret is shown once and never stored in clear; bad URLs are refused", async () => {
    for (const url of ["ftp://example.com/x", "not a url", "https://user:pass@example.com/hook"]) {
      const res = await admin(stack, "POST", "/v1/webhook-endpoints", { url });
      assert.equal(res.statusCode, 400, res.body);
      assert.ok(res.body.includes("url"), res.body);
    }
    const created = (
      await admin(stack, "POST", "/v1/webhook-endpoints", { url: "https://hooks.example.com/tm" })
    ).json();
    assert.match(created.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    const rows = await stack.db.$queryRaw<unknown[]>`SELECT * FROM webhook_endpoints`;
    assert.ok(!JSON.stringify(rows).includes(created.secret.slice(6)), "the database holds no secret in clear");
    const listed = (await admin(stack, "GET", "/v1/webhook-endpoints")).json().endpoints;
    assert.ok(!JSON.stringify(listed).includes(created.secret.slice(6)), "nor does the listing");
    const disabled = await admin(stack, "DELETE", `/v1/webhook-endpoints/${created.id}`);
    assert.deepEqual([disabled.statusCode, disabled.json().enabled], [200, false]);
  });
});

// last, so its alert reaches the shared receiver after the tests that count what it received
describe("budgets: holding smaller is not a refusal", () => {
  it("a call held smaller to fit raises no budget.exhausted; the first call that cannot fit at all raises it once", async () => {
    const c = await newConsumer("shrinks");
    // 100 max tokens hold 0.0002 of output; this budget fits one whole call and part of a second
    assert.equal(
      (
        await admin(stack, "PUT", `/v1/consumers/${c.id}/budget`, {
          period: "daily",
          amount: "0.0003",
          cap_output: "auto",
        })
      ).statusCode,
      200,
    );
    const whole = await authorize(c.username, randomBytes(16).toString("hex"));
    assert.equal(whole.body_fields, undefined, "the first call fits as asked");
    const smaller = await authorize(c.username, randomBytes(16).toString("hex"));
    assert.ok(smaller.allow && smaller.body_fields.max_tokens < MAX_TOKENS, JSON.stringify(smaller));
    const alertsOf = async () =>
      (await admin(stack, "GET", "/v1/alerts?type=budget.exhausted"))
        .json()
        .alerts.filter((a: { consumer_id: string }) => a.consumer_id === c.id);
    assert.equal((await alertsOf()).length, 0, "a call held smaller is not a refusal");
    for (let i = 0; i < 3; i++) {
      const refused = await authorize(c.username, randomBytes(16).toString("hex"));
      assert.equal(refused.reason?.code, "budget_exhausted");
      assert.equal(refused.reason.min_output_tokens, 16);
    }
    assert.equal(
      (await waitFor(async () => ((await alertsOf()).length >= 1 ? await alertsOf() : undefined), 10_000, "the alert"))
        .length,
      1,
      "one alert for the refusals",
    );
  });
});
