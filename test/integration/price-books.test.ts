// Price books end to end: a consumer on a plan calls three models, one named exactly, one matched
// by a pattern and one no price covers. Each cost is checked against a decimal reference computed
// here; the unpriced call is flagged, costs nothing, and is priced when its price is added. A
// markup applies to the plan's prices; the consumer's own rate covers models the plan does not name.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { Decimal } from "decimal.js";
import { kongLog } from "../fixtures/kong-logs.ts";
import { meterLogs, startTestInvoiceWorker, tick } from "../helpers/billing.ts";
import { admin, INGEST_SECRET, startStack, type Stack } from "../helpers/stack.ts";

let stack: Stack;
before(async () => {
  stack = await startStack({ BILLING_TIMEZONE: "UTC", BILLING_REVIEW_HOURS: "0" }, { meter: false });
});
after(() => stack.close());

const AT = Date.parse("2026-11-20T10:00:00Z");
const GPT4O = { input: "0.0000025", output: "0.00001" };
const MINI = { input: "0.00000015", output: "0.0000006" };
const CLAUDE = { input: "0.000003", output: "0.000015" };

/** One call of `model` with the provider's usage (no payloads: the provider's figures are billed). */
function call(
  c: { kongId: string; username: string },
  model: string,
  input: number,
  output: number,
  i: number,
  at = AT,
) {
  return kongLog({
    consumer: { id: c.kongId, username: c.username },
    startedAt: at + i * 1000,
    ai: {
      proxy: {
        usage: { prompt_tokens: input, completion_tokens: output, total_tokens: input + output },
        meta: { request_model: model, response_model: model, provider_name: "openai" },
      },
    },
  });
}
const ref = (p: { input: string; output: string }, input: number, output: number, markup = "0") =>
  new Decimal(input)
    .times(p.input)
    .plus(new Decimal(output).times(p.output))
    .times(new Decimal(100).plus(markup).div(100));

async function newConsumer(metadata: Record<string, unknown> = {}) {
  const kongId = randomUUID();
  const username = `plan-${kongId.slice(0, 8)}`;
  const res = await admin(stack, "POST", "/v1/consumers", { username, kong_id: kongId, metadata });
  assert.equal(res.statusCode, 201, res.body);
  return { id: res.json().id as string, kongId, username };
}

const event = async (id: string) => (await admin(stack, "GET", `/v1/events/${id}`)).json();

describe("price books and plans", () => {
  it("prices each model by its entry, flags the unpriced call, and prices it once its price is added", async () => {
    const book = `standard-${randomUUID().slice(0, 8)}`;
    const created = await admin(stack, "POST", "/v1/price-books", {
      name: book,
      prices: [
        { model: "gpt-4o", input_cost_per_token: GPT4O.input, output_cost_per_token: GPT4O.output },
        { model: "gpt-4o-mini*", input_cost_per_token: MINI.input, output_cost_per_token: MINI.output },
      ],
    });
    assert.equal(created.statusCode, 201, created.body);
    const c = await newConsumer();
    const plan = await admin(stack, "PUT", `/v1/consumers/${c.id}/plan`, { price_book: book });
    assert.equal(plan.statusCode, 200, plan.body);

    const logs = [
      call(c, "gpt-4o-2024-08-06", 1000, 200, 0),
      call(c, "gpt-4o-mini-2024-07-18", 5000, 800, 1),
      call(c, "claude-3-5-sonnet-20241022", 700, 90, 2),
    ];
    const ids = logs.map((l) => (l.request as { id: string }).id);
    await meterLogs(stack, logs);

    const [dated, pattern, unpriced] = await Promise.all(ids.map(event));
    assert.equal(dated.cost, ref(GPT4O, 1000, 200).toFixed());
    assert.deepEqual(
      [dated.priced_by.source, dated.priced_by.book, dated.priced_by.entry, dated.priced_by.match],
      ["plan", book, "gpt-4o", "dated"],
    );
    assert.equal(
      pattern.cost,
      ref(MINI, 5000, 800).toFixed(),
      "the longer pattern wins over nothing else; the mini price, not gpt-4o's",
    );
    assert.deepEqual([pattern.priced_by.entry, pattern.priced_by.match], ["gpt-4o-mini*", "pattern"]);
    assert.equal(unpriced.cost, "0");
    assert.deepEqual([unpriced.anomalies, unpriced.priced_by], [["unpriced"], null]);
    const listed = (
      await admin(
        stack,
        "GET",
        `/v1/reports/anomalies?anomaly=unpriced&consumer=${c.id}&from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z`,
      )
    ).json();
    assert.deepEqual(
      listed.events.map((e: { id: string }) => e.id),
      [ids[2]],
    );

    const added = await admin(stack, "POST", `/v1/price-books/${book}/prices`, {
      model: "claude-3-5-*",
      input_cost_per_token: CLAUDE.input,
      output_cost_per_token: CLAUDE.output,
    });
    assert.equal(added.statusCode, 201, added.body);
    assert.equal(added.json().repriced_events, 1);
    const priced = await event(ids[2]!);
    assert.equal(priced.cost, ref(CLAUDE, 700, 90).toFixed());
    assert.deepEqual(priced.anomalies, []);

    const usage = (
      await admin(stack, "GET", `/v1/consumers/${c.id}/usage?from=2026-11-20T00:00:00Z&to=2026-11-21T00:00:00Z`)
    ).json();
    const total = ref(GPT4O, 1000, 200)
      .plus(ref(MINI, 5000, 800))
      .plus(ref(CLAUDE, 700, 90));
    assert.equal(
      new Decimal(usage.totals?.cost ?? usage.cost).toFixed(),
      total.toFixed(),
      "usage totals moved with the repricing",
    );
  });

  it("calls priced the same way share one stored pricing record, which each call's explanation shows", async () => {
    const book = `shared-${randomUUID().slice(0, 8)}`;
    const created = await admin(stack, "POST", "/v1/price-books", {
      name: book,
      prices: [{ model: "gpt-4o", input_cost_per_token: GPT4O.input, output_cost_per_token: GPT4O.output }],
    });
    assert.equal(created.statusCode, 201, created.body);
    const c = await newConsumer();
    assert.equal((await admin(stack, "PUT", `/v1/consumers/${c.id}/plan`, { price_book: book })).statusCode, 200);
    const logs = Array.from({ length: 6 }, (_, i) => call(c, "gpt-4o-2024-08-06", 100 + i, 10, 300 + i));
    await meterLogs(stack, logs);

    const { rows } = await stack.pool.query(
      `SELECT count(*)::int AS calls, count(DISTINCT priced_by_id)::int AS records, min(priced_by_id::text) AS record
       FROM usage_events WHERE consumer_id = $1::uuid`,
      [c.id],
    );
    assert.deepEqual([rows[0].calls, rows[0].records], [6, 1]);
    const stored = await stack.pool.query("SELECT priced_by FROM pricing_records WHERE id = $1::uuid", [
      rows[0].record,
    ]);
    const explained = await Promise.all(logs.map((l) => event((l.request as { id: string }).id)));
    for (const e of explained) assert.deepEqual(e.priced_by, stored.rows[0].priced_by);
    assert.deepEqual([explained[0].priced_by.book, explained[0].priced_by.entry], [book, "gpt-4o"]);
  });

  it("a markup applies to plan prices, and the consumer's own rate covers what the plan does not name", async () => {
    const book = `list-${randomUUID().slice(0, 8)}`;
    assert.equal(
      (
        await admin(stack, "POST", "/v1/price-books", {
          name: book,
          prices: [{ model: "gpt-4o", input_cost_per_token: GPT4O.input, output_cost_per_token: GPT4O.output }],
        })
      ).statusCode,
      201,
    );
    const own = { input: "0.000001", output: "0.000002" };
    const c = await newConsumer({ input_cost_per_token: own.input, output_cost_per_token: own.output });
    assert.equal(
      (await admin(stack, "PUT", `/v1/consumers/${c.id}/plan`, { price_book: book, markup_percent: "7.5" })).statusCode,
      200,
    );
    const logs = [call(c, "gpt-4o", 1234, 567, 10), call(c, "mistral-large-latest", 400, 50, 11)];
    await meterLogs(stack, logs);
    const [marked, fallback] = await Promise.all(logs.map((l) => event((l.request as { id: string }).id)));
    assert.equal(marked.cost, ref(GPT4O, 1234, 567, "7.5").toFixed());
    assert.equal(marked.priced_by.markup_percent, "7.5");
    assert.equal(fallback.cost, ref(own, 400, 50).toFixed());
    assert.equal(fallback.priced_by.source, "consumer_rate");
  });

  it("refuses half a price pair, a bad entry name and a bad markup, naming the field", async () => {
    const cases: Array<[string, string, unknown, string]> = [
      [
        "POST",
        "/v1/consumers",
        { username: `half-${randomUUID().slice(0, 8)}`, metadata: { input_cost_per_token: "0.000001" } },
        "metadata.output_cost_per_token",
      ],
      [
        "POST",
        "/v1/price-books",
        { name: "half", prices: [{ model: "gpt-4o", input_cost_per_token: "0.1" }] },
        "prices.0.output_cost_per_token",
      ],
      [
        "POST",
        "/v1/price-books",
        { name: "spaces", prices: [{ model: "gpt 4o", input_cost_per_token: "0", output_cost_per_token: "0" }] },
        "prices.0.model",
      ],
      ["POST", "/v1/price-books", { name: "-bad name" }, "name"],
    ];
    for (const [method, url, body, field] of cases) {
      const res = await admin(stack, method as "POST", url, body);
      assert.equal(res.statusCode, 400, `${url} ${JSON.stringify(body)}: ${res.body}`);
      assert.match(JSON.stringify(res.json()), new RegExp(field.replace(/\./g, "\\.")), res.body);
    }
    const c = await newConsumer();
    for (const markup of ["-100", "1000.5", "abc", "1e2", -150]) {
      const res = await admin(stack, "PUT", `/v1/consumers/${c.id}/plan`, { price_book: null, markup_percent: markup });
      assert.equal(res.statusCode, 400, `markup ${markup}: ${res.body}`);
    }
    assert.equal(
      (await admin(stack, "PUT", `/v1/consumers/${c.id}/plan`, { price_book: "no-such-book" })).statusCode,
      404,
    );
  });

  it("an invoice with an unpriced call is not finalized by the run nor by hand, until its price is added or the operator says so", async () => {
    const worker = await startTestInvoiceWorker(stack);
    try {
      const book = `held-${randomUUID().slice(0, 8)}`;
      assert.equal(
        (
          await admin(stack, "POST", "/v1/price-books", {
            name: book,
            prices: [{ model: "gpt-4o", input_cost_per_token: GPT4O.input, output_cost_per_token: GPT4O.output }],
          })
        ).statusCode,
        201,
      );
      const c = await newConsumer();
      await admin(stack, "PUT", `/v1/consumers/${c.id}/plan`, { price_book: book });
      await meterLogs(stack, [call(c, "gpt-4o", 100, 10, 20), call(c, "o3-mini", 300, 30, 21)]);

      await tick(stack.billingQueue, "2026-12-01T00:30:00Z"); // closes November: drafts
      await tick(stack.billingQueue, "2026-12-02T01:00:00Z"); // past the grace: the run finalizes what it may
      const [inv] = (await admin(stack, "GET", `/v1/consumers/${c.id}/invoices?period=2026-11-01`)).json().invoices;
      assert.equal(inv.status, "draft", "held: a call on it has no price");
      const alerts = (await admin(stack, "GET", "/v1/alerts?type=invoice.unpriced_calls")).json().alerts;
      const mine = alerts.filter(
        (a: { body: { data: { invoice_id: string; models: string[] } } }) => a.body.data.invoice_id === inv.id,
      );
      assert.equal(mine.length, 1, "the run raised one alert for the held invoice");
      assert.deepEqual(mine[0].body.data.models, ["o3-mini"]);

      const refused = await admin(stack, "POST", `/v1/invoices/${inv.id}/finalize`, {});
      assert.equal(refused.statusCode, 409, refused.body);
      assert.match(refused.json().error.message, /1 billable calls on this invoice have no price \(models: o3-mini\)/);

      assert.equal(
        (
          await admin(stack, "POST", `/v1/price-books/${book}/prices`, {
            model: "o3-mini",
            input_cost_per_token: "0.0000011",
            output_cost_per_token: "0.0000044",
          })
        ).json().repriced_events,
        1,
      );
      const done = await admin(stack, "POST", `/v1/invoices/${inv.id}/finalize`, {});
      assert.equal(done.statusCode, 200, done.body);
      const expected = ref(GPT4O, 100, 10).plus(ref({ input: "0.0000011", output: "0.0000044" }, 300, 30));
      assert.deepEqual([done.json().status, done.json().subtotal], ["finalized", expected.toFixed()]);
    } finally {
      await worker.stop();
    }
  });

  it("authorize holds a call at its own model's price, and refuses a model nothing prices against a money budget", async () => {
    const book = `hold-${randomUUID().slice(0, 8)}`;
    await admin(stack, "POST", "/v1/price-books", {
      name: book,
      prices: [
        { model: "gpt-4o", input_cost_per_token: GPT4O.input, output_cost_per_token: GPT4O.output },
        { model: "gpt-4o-mini*", input_cost_per_token: MINI.input, output_cost_per_token: MINI.output },
      ],
    });
    const c = await newConsumer();
    await admin(stack, "PUT", `/v1/consumers/${c.id}/plan`, { price_book: book });
    assert.equal(
      (await admin(stack, "PUT", `/v1/consumers/${c.id}/budget`, { period: "daily", amount: "100" })).statusCode,
      200,
    );
    const decide = async (model: string) =>
      (
        await stack.app.inject({
          method: "POST",
          url: "/v1/gateway/authorize",
          headers: { authorization: `Bearer ${INGEST_SECRET}`, "content-type": "application/json" },
          payload: JSON.stringify({
            consumer: { username: c.username },
            body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }], max_tokens: 1000 }),
          }),
        })
      ).json();
    const big = await decide("gpt-4o");
    const small = await decide("gpt-4o-mini");
    const tokens = big.checks.budget.hold_tokens - 1000;
    assert.equal(big.checks.budget.hold_amount, ref(GPT4O, tokens, 1000).toFixed());
    assert.equal(small.checks.budget.hold_amount, ref(MINI, tokens, 1000).toFixed());
    assert.equal(small.checks.priced_by.entry, "gpt-4o-mini*");
    const refused = await decide("claude-3-opus");
    assert.deepEqual([refused.allow, refused.status, refused.reason.code], [false, 403, "model_unpriced"]);
  });

  it("a plan at the shipped catalog's prices plus a markup; importing the same catalog again adds nothing", async () => {
    const book = `list-${randomUUID().slice(0, 8)}`;
    assert.equal((await admin(stack, "POST", "/v1/price-books", { name: book })).statusCode, 201);
    const imported = await admin(stack, "POST", `/v1/price-books/${book}/import`, {
      format: "shipped",
      effective_from: "2026-01-01T00:00:00Z",
    });
    assert.equal(imported.statusCode, 200, imported.body);
    assert.ok(imported.json().added.includes("gpt-4o") && imported.json().rejected.length === 0, imported.body);
    const again = (
      await admin(stack, "POST", `/v1/price-books/${book}/import`, {
        format: "shipped",
        effective_from: "2026-01-01T00:00:00Z",
      })
    ).json();
    assert.deepEqual([again.added.length, again.unchanged.length], [0, imported.json().added.length]);

    const c = await newConsumer();
    await admin(stack, "PUT", `/v1/consumers/${c.id}/plan`, { price_book: book, markup_percent: "20" });
    const log = call(c, "claude-3-5-sonnet-20241022", 2000, 300, 40);
    await meterLogs(stack, [log]);
    const e = await event((log.request as { id: string }).id);
    assert.equal(e.cost, ref(CLAUDE, 2000, 300, "20").toFixed(), "catalog list price x 1.2");

    // a LiteLLM file updates one price from a later date on; the half-priced entry is refused, not zeroed
    const update = await admin(stack, "POST", `/v1/price-books/${book}/import`, {
      format: "litellm",
      effective_from: "2026-12-01T00:00:00Z",
      catalog: {
        "claude-3-5-sonnet": { mode: "chat", input_cost_per_token: 2e-6, output_cost_per_token: 1e-5 },
        "new-model": { mode: "chat", input_cost_per_token: 1e-6 },
      },
    });
    assert.equal(update.statusCode, 200, update.body);
    assert.deepEqual(
      [update.json().added, update.json().rejected.map((r: { model: string }) => r.model)],
      [["claude-3-5-sonnet"], ["new-model"]],
    );
    assert.equal(
      (await event((log.request as { id: string }).id)).cost,
      e.cost,
      "the November call keeps the price in force then",
    );
    const bad = await admin(stack, "POST", `/v1/price-books/${book}/import`, { format: "litellm" });
    assert.deepEqual([bad.statusCode, bad.json().error.field], [400, "catalog"]);
  });

  it("the invoice rates a period's quantities through graduated and volume tiers, and adds the plan's fee and minimum top-up", async () => {
    const worker = await startTestInvoiceWorker(stack);
    try {
      const book = `tiered-${randomUUID().slice(0, 8)}`;
      const T1 = { input: "0.000002", output: "0.000008" };
      const M1 = { input: "0.0000001", output: "0.0000004" };
      const created = await admin(stack, "POST", "/v1/price-books", {
        name: book,
        fee_per_period: "5",
        minimum_per_period: "50",
        prices: [
          {
            model: "gpt-4o",
            input_cost_per_token: GPT4O.input,
            output_cost_per_token: GPT4O.output,
            tiering: {
              mode: "graduated",
              tiers: [{ above: 3000, input_cost_per_token: T1.input, output_cost_per_token: T1.output }],
            },
          },
          {
            model: "gpt-4o-mini*",
            input_cost_per_token: MINI.input,
            output_cost_per_token: MINI.output,
            tiering: {
              mode: "volume",
              tiers: [{ above: 3000, input_cost_per_token: M1.input, output_cost_per_token: M1.output }],
            },
          },
        ],
      });
      assert.equal(created.statusCode, 201, created.body);
      const c = await newConsumer();
      await admin(stack, "PUT", `/v1/consumers/${c.id}/plan`, { price_book: book });
      // January 2027: a period no other test here bills
      const jan = Date.parse("2027-01-15T10:00:00Z");
      const logs = [
        call(c, "gpt-4o", 2000, 300, 0, jan),
        call(c, "gpt-4o", 2000, 300, 1, jan),
        call(c, "gpt-4o-mini", 2000, 2000, 2, jan),
        call(c, "gpt-4o-mini", 2000, 2000, 3, jan),
      ];
      await meterLogs(stack, logs);
      // each call at the base price in usage views
      assert.equal((await event((logs[0]!.request as { id: string }).id)).cost, ref(GPT4O, 2000, 300).toFixed());

      await tick(stack.billingQueue, "2027-02-01T00:30:00Z");
      const [inv] = (await admin(stack, "GET", `/v1/consumers/${c.id}/invoices?period=2027-01-01`)).json().invoices;
      const full = (await admin(stack, "GET", `/v1/invoices/${inv.id}`)).json();
      const D = (x: string | number) => new Decimal(x);
      // graduated: 3,000 input tokens at base, 1,000 above at tier 1; 600 output all at base
      const gpt4o = D(3000).times(GPT4O.input).plus(D(1000).times(T1.input)).plus(D(600).times(GPT4O.output));
      // volume: 4,000 tokens of each type reach tier 1, so all of them are priced there
      const mini = D(4000).times(M1.input).plus(D(4000).times(M1.output));
      const usage = gpt4o.plus(mini);
      const expected = usage.plus(5).plus(D(50).minus(usage));
      const sum = full.lines.reduce((s: Decimal, l: { amount: string }) => s.plus(l.amount), D(0));
      assert.equal(full.subtotal, expected.toFixed());
      assert.equal(sum.toFixed(), full.subtotal, "subtotal = the sum of the lines");
      for (const l of full.lines)
        assert.equal(D(l.quantity).times(l.unit_price).toFixed(), D(l.amount).toFixed(), `line ${l.position}`);
      const kinds = full.lines.map((l: { kind: string }) => l.kind);
      assert.deepEqual(
        [kinds.filter((k: string) => k === "tier_adjustment").length, kinds.at(-2), kinds.at(-1)],
        [3, "plan_fee", "minimum_top_up"],
      );
      assert.equal(full.total, "55", "the fee plus the minimum: usage below the minimum is topped up to it");
      const focus = (await admin(stack, "GET", `/v1/reports/focus?period=2027-01-01&consumer=${c.id}`)).body;
      assert.match(focus, /Purchase,,.*minimum top up/);
    } finally {
      await worker.stop();
    }
  });

  it("a price added while a chunk is being priced: the chunk is priced again with it, never written at the old price", async () => {
    const book = `race-${randomUUID().slice(0, 8)}`;
    const created = (
      await admin(stack, "POST", "/v1/price-books", {
        name: book,
        prices: [{ model: "gpt-4o", input_cost_per_token: GPT4O.input, output_cost_per_token: GPT4O.output }],
      })
    ).json();
    const c = await newConsumer();
    await admin(stack, "PUT", `/v1/consumers/${c.id}/plan`, { price_book: book });
    const NEW = { input: "0.000001", output: "0.000004" };
    // another transaction adds a price and holds the book's row until we let it commit
    const other = await stack.pool.connect();
    try {
      await other.query("BEGIN");
      await other.query(
        "INSERT INTO price_book_prices (id, book_id, model, effective_from, input_cost_per_token, output_cost_per_token) VALUES (gen_random_uuid(), $1::uuid, 'gpt-4o', '2000-01-01T00:00:00Z', $2, $3)",
        [created.id, NEW.input, NEW.output],
      );
      await other.query("UPDATE price_books SET version = version + 1, updated_at = now() WHERE id = $1::uuid", [
        created.id,
      ]);
      const log = call(c, "gpt-4o", 1000, 100, 60);
      const metering = meterLogs(stack, [log]); // prices with the committed (old) price, then waits on the book's row
      await new Promise((r) => setTimeout(r, 300));
      await other.query("COMMIT");
      await metering;
      const e = await event((log.request as { id: string }).id);
      assert.equal(e.cost, ref(NEW, 1000, 100).toFixed(), "priced with the price committed before the chunk was");
      assert.equal(e.priced_by.book_version, created.version + 1);
    } finally {
      other.release();
    }
  });
  it("a consumer's own price for a model overrides its plan's, and reprices its calls; it is not a book anyone else can use", async () => {
    const book = `over-${randomUUID().slice(0, 8)}`;
    await admin(stack, "POST", "/v1/price-books", {
      name: book,
      prices: [
        { model: "gpt-4o", input_cost_per_token: GPT4O.input, output_cost_per_token: GPT4O.output },
        { model: "*", input_cost_per_token: "0.000005", output_cost_per_token: "0.00002" },
      ],
    });
    const c = await newConsumer();
    await admin(stack, "PUT", `/v1/consumers/${c.id}/plan`, { price_book: book, markup_percent: "10" });
    const logs = [call(c, "gpt-4o-2024-08-06", 1000, 100, 70), call(c, "o1", 1000, 100, 71)];
    await meterLogs(stack, logs);
    const OWN = { input: "0.000002", output: "0.000009" };
    const added = await admin(stack, "POST", `/v1/consumers/${c.id}/prices`, {
      model: "gpt-4o",
      input_cost_per_token: OWN.input,
      output_cost_per_token: OWN.output,
    });
    assert.equal(added.statusCode, 201, added.body);
    assert.equal(added.json().repriced_events, 1, "only the call of the model it names");
    const [own, plan] = await Promise.all(logs.map((l) => event((l.request as { id: string }).id)));
    assert.deepEqual(
      [own.cost, own.priced_by.source, own.priced_by.markup_percent],
      [ref(OWN, 1000, 100).toFixed(), "override", null],
      "its own price, without the plan's markup",
    );
    assert.deepEqual(
      [plan.cost, plan.priced_by.source, plan.priced_by.match],
      [ref({ input: "0.000005", output: "0.00002" }, 1000, 100, "10").toFixed(), "plan", "default"],
    );
    const listed = (await admin(stack, "GET", `/v1/consumers/${c.id}/prices`)).json();
    assert.deepEqual(
      listed.prices.map((p: { model: string }) => p.model),
      ["gpt-4o"],
    );
    const books = (await admin(stack, "GET", "/v1/price-books")).json().price_books.map((b: { id: string }) => b.id);
    assert.ok(!books.includes(listed.book_id), "a consumer's own prices are not a plan others can take");
    const other = await newConsumer();
    assert.deepEqual(
      (await admin(stack, "PUT", `/v1/consumers/${other.id}/plan`, { price_book: listed.book_id })).json().error.field,
      "price_book",
    );
    const everything = await admin(stack, "POST", `/v1/consumers/${c.id}/prices`, {
      model: "*",
      input_cost_per_token: "0",
      output_cost_per_token: "0",
    });
    assert.deepEqual([everything.statusCode, everything.json().error.field], [400, "model"]);
  });

  it("the prices command imports a LiteLLM file into a book and exports it in a form that imports back unchanged", async () => {
    const book = `cli-${randomUUID().slice(0, 8)}`;
    assert.equal((await admin(stack, "POST", "/v1/price-books", { name: book })).statusCode, 201);
    const dir = mkdtempSync(join(tmpdir(), "prices-"));
    const litellm = join(dir, "model_prices_and_context_window.json");
    writeFileSync(
      litellm,
      JSON.stringify({
        sample_spec: { mode: "chat", input_cost_per_token: 0 },
        "gpt-4o": {
          mode: "chat",
          input_cost_per_token: 2.5e-6,
          output_cost_per_token: 1e-5,
          cache_read_input_token_cost: 1.25e-6,
        },
        "text-embedding-3-small": { mode: "embedding", input_cost_per_token: 2e-8, output_cost_per_token: 0 },
      }),
    );
    const run = (args: string[]) =>
      promisify(execFile)("node", ["--import", "tsx", "scripts/prices.ts", ...args], {
        cwd: new URL("../..", import.meta.url).pathname,
        env: {
          ...process.env,
          DATABASE_URL: stack.config.databaseUrl,
          REDIS_PREFIX: stack.config.redis.prefix,
          LOG_LEVEL: "silent",
        },
      }).then(
        (r) => ({ code: 0, ...r }),
        (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }),
      );
    const imported = await run([
      "import",
      book,
      litellm,
      "--format",
      "litellm",
      "--effective-from",
      "2026-01-01T00:00:00Z",
    ]);
    assert.equal(imported.code, 1, "one entry rejected: exit 1, the rest imported");
    assert.match(imported.stdout, /1 added, 0 unchanged, 1 rejected/);
    const exported = await run(["export", book]);
    assert.equal(exported.code, 0, exported.stderr);
    const catalog = JSON.parse(exported.stdout);
    assert.deepEqual(
      catalog.models,
      [
        {
          model: "gpt-4o",
          effective_from: "2026-01-01T00:00:00.000Z",
          input_cost_per_token: "0.0000025",
          output_cost_per_token: "0.00001",
          cached_input_cost_per_token: "0.00000125",
          cache_write_cost_per_token: null,
          reasoning_cost_per_token: null,
        },
      ].map(({ cache_write_cost_per_token: _w, reasoning_cost_per_token: _r, ...m }) => m),
    );
    const file = join(dir, "export.json");
    writeFileSync(file, exported.stdout);
    const again = await run(["import", book, file, "--effective-from", "2026-01-01T00:00:00Z"]);
    assert.deepEqual(
      [again.code, /0 added, 1 unchanged, 0 rejected/.test(again.stdout)],
      [0, true],
      again.stdout + again.stderr,
    );
    assert.equal((await run(["import", "no-such-book", file])).code, 2);
    assert.equal((await run(["import", book, join(dir, "missing.json")])).code, 2);
  });

  it("a book price reaching into a finalized period is refused, unless sent as a correction, which the next invoice bills once", async () => {
    const worker = await startTestInvoiceWorker(stack);
    try {
      const book = `fix-${randomUUID().slice(0, 8)}`;
      await admin(stack, "POST", "/v1/price-books", {
        name: book,
        prices: [{ model: "gpt-4o", input_cost_per_token: GPT4O.input, output_cost_per_token: GPT4O.output }],
      });
      const c = await newConsumer();
      await admin(stack, "PUT", `/v1/consumers/${c.id}/plan`, { price_book: book });
      const march = Date.parse("2027-03-10T10:00:00Z");
      await meterLogs(stack, [call(c, "gpt-4o", 10_000, 1_000, 0, march)]);
      await tick(stack.billingQueue, "2027-04-01T00:30:00Z");
      await tick(stack.billingQueue, "2027-04-02T01:00:00Z");
      const [marchInvoice] = (await admin(stack, "GET", `/v1/consumers/${c.id}/invoices?period=2027-03-01`)).json()
        .invoices;
      assert.equal(marchInvoice.status, "finalized");

      const FIXED = { input: "0.000002", output: "0.000008" };
      const price = {
        model: "gpt-4o",
        effective_from: "2027-03-01T00:00:00Z",
        input_cost_per_token: FIXED.input,
        output_cost_per_token: FIXED.output,
      };
      const refused = await admin(stack, "POST", `/v1/price-books/${book}/prices`, price);
      assert.deepEqual([refused.statusCode, refused.json().error.field], [409, "effective_from"]);
      const corrected = await admin(stack, "POST", `/v1/price-books/${book}/prices`, {
        ...price,
        correction: { reason: "the March list price was wrong" },
      });
      assert.equal(corrected.statusCode, 201, corrected.body);
      assert.equal(corrected.json().repriced_events, 1);

      await meterLogs(stack, [call(c, "gpt-4o", 100, 10, 0, Date.parse("2027-04-10T10:00:00Z"))]);
      await tick(stack.billingQueue, "2027-05-01T00:30:00Z");
      const [april] = (await admin(stack, "GET", `/v1/consumers/${c.id}/invoices?period=2027-04-01`)).json().invoices;
      const lines = (await admin(stack, "GET", `/v1/invoices/${april.id}`)).json().lines as Array<{
        kind: string;
        token_type: string;
        quantity: number;
        amount: string;
        reason: string;
      }>;
      const fixes = lines.filter((l) => l.kind === "price_correction");
      const D = (x: string | number) => new Decimal(x);
      assert.deepEqual(
        fixes.map((l) => [l.token_type, l.quantity, l.amount]).sort(),
        [
          ["input", 10_000, D(10_000).times(D(FIXED.input).minus(GPT4O.input)).toFixed()],
          ["output", 1_000, D(1_000).times(D(FIXED.output).minus(GPT4O.output)).toFixed()],
        ].sort(),
      );
      assert.equal(fixes[0]!.reason, "the March list price was wrong");
      assert.equal(
        (await admin(stack, "GET", `/v1/invoices/${marchInvoice.id}`)).json().subtotal,
        marchInvoice.subtotal,
        "the finalized invoice is as it was",
      );
    } finally {
      await worker.stop();
    }
  });

  it("a tag's plan bills every consumer carrying the tag that has no plan of its own", async () => {
    const tag = `team-${randomUUID().slice(0, 8)}`;
    const tagBook = `tagged-${randomUUID().slice(0, 8)}`;
    const ownBook = `own-${randomUUID().slice(0, 8)}`;
    await admin(stack, "POST", "/v1/price-books", {
      name: tagBook,
      prices: [{ model: "gpt-4o", input_cost_per_token: GPT4O.input, output_cost_per_token: GPT4O.output }],
    });
    await admin(stack, "POST", "/v1/price-books", {
      name: ownBook,
      prices: [{ model: "gpt-4o", input_cost_per_token: MINI.input, output_cost_per_token: MINI.output }],
    });
    const tagged = await newConsumer({ tags: [tag] });
    const planned = await newConsumer({ tags: [tag] });
    await admin(stack, "PUT", `/v1/consumers/${planned.id}/plan`, { price_book: ownBook });
    const logs = [call(tagged, "gpt-4o", 1000, 100, 80), call(planned, "gpt-4o", 1000, 100, 81)];
    await meterLogs(stack, logs);
    assert.deepEqual((await event((logs[0]!.request as { id: string }).id)).anomalies, ["unpriced"]);

    const set = await admin(stack, "PUT", `/v1/tags/${tag}/plan`, { price_book: tagBook, markup_percent: "-10" });
    assert.equal(set.statusCode, 200, set.body);
    assert.deepEqual([set.json().consumers, set.json().repriced_events], [1, 1]);
    const [viaTag, own] = await Promise.all(logs.map((l) => event((l.request as { id: string }).id)));
    assert.deepEqual(
      [viaTag.cost, viaTag.priced_by.via_tag, viaTag.priced_by.markup_percent],
      [ref(GPT4O, 1000, 100, "-10").toFixed(), tag, "-10"],
    );
    assert.equal(own.cost, ref(MINI, 1000, 100).toFixed(), "its own plan comes first");
    assert.equal((await admin(stack, "GET", `/v1/tags/${tag}/plan`)).json().price_book.name, tagBook);
    assert.equal((await admin(stack, "GET", `/v1/tags/no-such-${tag}/plan`)).statusCode, 404);
  });

  it("a fee per request is part of each call's cost and one invoice line per model and fee, listing its calls", async () => {
    const worker = await startTestInvoiceWorker(stack);
    try {
      const book = `fee-${randomUUID().slice(0, 8)}`;
      const made = await admin(stack, "POST", "/v1/price-books", {
        name: book,
        prices: [
          {
            model: "gpt-4o",
            input_cost_per_token: GPT4O.input,
            output_cost_per_token: GPT4O.output,
            request_fee: "0.001",
          },
        ],
      });
      assert.equal(made.json().prices[0].request_fee, "0.001");
      const c = await newConsumer();
      await admin(stack, "PUT", `/v1/consumers/${c.id}/plan`, { price_book: book });
      const june = Date.parse("2027-06-10T10:00:00Z");
      const logs = [0, 1, 2].map((i) => call(c, "gpt-4o", 100, 10, i, june));
      await meterLogs(stack, logs);
      assert.equal(
        (await event((logs[0]!.request as { id: string }).id)).cost,
        ref(GPT4O, 100, 10).plus("0.001").toFixed(),
      );
      await tick(stack.billingQueue, "2027-07-01T00:30:00Z");
      const [inv] = (await admin(stack, "GET", `/v1/consumers/${c.id}/invoices?period=2027-06-01`)).json().invoices;
      const full = (await admin(stack, "GET", `/v1/invoices/${inv.id}`)).json();
      const fee = full.lines.find((l: { kind: string }) => l.kind === "request_fee");
      assert.deepEqual([fee.model, fee.quantity, fee.unit_price, fee.amount], ["gpt-4o", 3, "0.001", "0.003"]);
      assert.equal(
        full.subtotal,
        ref(GPT4O, 300, 30).plus("0.003").toFixed(),
        "tokens plus three fees, the sum of the calls' costs",
      );
      const listed = (await admin(stack, "GET", `/v1/invoices/${inv.id}/lines/${fee.position}/events`)).json();
      assert.deepEqual(
        listed.events.map((e: { id: string }) => e.id).sort(),
        logs.map((l) => (l.request as { id: string }).id).sort(),
      );
    } finally {
      await worker.stop();
    }
  });

  it("a new rate for a consumer on a plan moves only the calls the rate prices, never those its plan names", async () => {
    const book = `keep-${randomUUID().slice(0, 8)}`;
    await admin(stack, "POST", "/v1/price-books", {
      name: book,
      prices: [{ model: "gpt-4o", input_cost_per_token: GPT4O.input, output_cost_per_token: GPT4O.output }],
    });
    const c = await newConsumer({ input_cost_per_token: "0.000001", output_cost_per_token: "0.000002" });
    await admin(stack, "PUT", `/v1/consumers/${c.id}/plan`, { price_book: book });
    const logs = [call(c, "gpt-4o", 1000, 100, 90), call(c, "o1", 1000, 100, 91)];
    await meterLogs(stack, logs);
    const RATE = { input: "0.000004", output: "0.000016" };
    const res = await admin(stack, "POST", `/v1/consumers/${c.id}/rates`, {
      effective_from: "2026-11-01T00:00:00Z",
      input_cost_per_token: RATE.input,
      output_cost_per_token: RATE.output,
    });
    assert.equal(res.statusCode, 201, res.body);
    assert.equal(res.json().repriced_events, 1);
    const [planned, rated] = await Promise.all(logs.map((l) => event((l.request as { id: string }).id)));
    assert.deepEqual([planned.cost, planned.priced_by.source], [ref(GPT4O, 1000, 100).toFixed(), "plan"]);
    assert.deepEqual([rated.cost, rated.priced_by.source], [ref(RATE, 1000, 100).toFixed(), "consumer_rate"]);
  });
});

describe("consumers first seen in a log", () => {
  it("are billed by DEFAULT_PLAN when it names a book, and unpriced when it names none", async () => {
    const own = await startStack({ BILLING_TIMEZONE: "UTC", DEFAULT_PLAN: "house" }, { meter: false });
    try {
      const logOf = () => {
        const kongId = randomUUID();
        return { kongId, log: call({ kongId, username: `seen-${kongId.slice(0, 8)}` }, "gpt-4o", 1000, 100, 0) };
      };
      const before = logOf();
      await meterLogs(own, [before.log]);
      const unpriced = (await admin(own, "GET", `/v1/events/${(before.log.request as { id: string }).id}`)).json();
      assert.deepEqual(
        [unpriced.cost, unpriced.anomalies],
        ["0", ["unpriced"]],
        "no book of that name yet: unpriced, never free",
      );

      assert.equal(
        (
          await admin(own, "POST", "/v1/price-books", {
            name: "house",
            prices: [{ model: "*", input_cost_per_token: GPT4O.input, output_cost_per_token: GPT4O.output }],
          })
        ).statusCode,
        201,
      );
      const after = logOf();
      await meterLogs(own, [after.log]);
      const priced = (await admin(own, "GET", `/v1/events/${(after.log.request as { id: string }).id}`)).json();
      assert.deepEqual([priced.cost, priced.priced_by.book], [ref(GPT4O, 1000, 100).toFixed(), "house"]);
    } finally {
      await own.close();
    }
  });
});
