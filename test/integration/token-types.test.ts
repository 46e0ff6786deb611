// Token types end to end: provider reports with cached input, cache writes and reasoning, metered
// and priced with and without each type's own price, then summed into TDL cells, usage and invoice
// lines. Every figure is checked against a reference computed here with decimals.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Decimal } from "decimal.js";
import type { InvoiceWorker } from "../../workers/invoices/worker.ts";
import { CHAT_REQUEST, kongLog } from "../fixtures/kong-logs.ts";
import { meterLogs, startTestInvoiceWorker, tick } from "../helpers/billing.ts";
import { admin, startStack, type Stack } from "../helpers/stack.ts";

type Prices = { input: string; output: string; cached_input?: string; cache_write?: string; reasoning?: string };
type Split = { input: number; output: number; cachedInput: number; cacheWrite: number; reasoning: number };
// reasoning unset
const TYPED: Prices = { input: "0.0000025", output: "0.00001", cached_input: "0.00000125", cache_write: "0.000003125" };
const PLAIN: Prices = { input: "0.000000083", output: "0.00000033" };

/** The reference: each type's disjoint quantity at its own price, or its parent's. */
function costRef(t: Split, p: Prices): string {
  return new Decimal(t.input - t.cachedInput - t.cacheWrite)
    .times(p.input)
    .plus(new Decimal(t.cachedInput).times(p.cached_input ?? p.input))
    .plus(new Decimal(t.cacheWrite).times(p.cache_write ?? p.input))
    .plus(new Decimal(t.output - t.reasoning).times(p.output))
    .plus(new Decimal(t.reasoning).times(p.reasoning ?? p.output))
    .toFixed();
}

const AT = Date.parse("2026-11-10T03:00:00Z");
/** Three provider shapes; no request is logged, so the input and its parts are the provider's. */
const CALLS: Array<{ name: string; usage?: Record<string, unknown>; responseBody?: unknown; expect: Split }> = [
  {
    name: "OpenAI chat with cached and reasoning details",
    usage: {
      prompt_tokens: 1500,
      completion_tokens: 900,
      prompt_tokens_details: { cached_tokens: 1024 },
      completion_tokens_details: { reasoning_tokens: 640 },
    },
    expect: { input: 1500, output: 900, cachedInput: 1024, cacheWrite: 0, reasoning: 640 },
  },
  {
    name: "Anthropic cache read and write in the logged response's usage",
    responseBody: {
      content: [{ type: "text", text: "Paris" }],
      usage: { input_tokens: 21, cache_read_input_tokens: 2000, cache_creation_input_tokens: 393, output_tokens: 7 },
    },
    // the logged response is whole, so its output is counted here ("Paris": 1 token); the input is the provider's
    expect: { input: 21 + 2000 + 393, output: 1, cachedInput: 2000, cacheWrite: 393, reasoning: 0 },
  },
  {
    name: "Responses API usage",
    usage: {
      input_tokens: 300,
      output_tokens: 50,
      input_tokens_details: { cached_tokens: 256 },
      output_tokens_details: { reasoning_tokens: 20 },
    },
    expect: { input: 300, output: 50, cachedInput: 256, cacheWrite: 0, reasoning: 20 },
  },
];

let stack: Stack;
let worker: InvoiceWorker;
const consumers = [
  { name: "typed-prices", kongId: randomUUID(), prices: TYPED },
  { name: "two-prices", kongId: randomUUID(), prices: PLAIN },
];

function logOf(c: (typeof consumers)[number], call: (typeof CALLS)[number], i: number) {
  const entry = kongLog({
    consumer: { id: c.kongId, username: c.name },
    startedAt: AT + i * 1000,
    ai: {
      proxy: {
        ...(call.usage ? { usage: call.usage } : {}),
        meta: { request_model: "gpt-4o", response_model: "gpt-4o", provider_name: "openai" },
      },
    },
  });
  // the Anthropic case: the response's own usage is the provider figure; the request is not logged
  if (call.responseBody) (entry.response as Record<string, unknown>).body = JSON.stringify(call.responseBody);
  return entry;
}

before(async () => {
  stack = await startStack({ BILLING_TIMEZONE: "UTC", BILLING_PERIOD: "monthly" }, { meter: false });
  worker = await startTestInvoiceWorker(stack);
  for (const c of consumers) {
    const res = await admin(stack, "POST", "/v1/consumers", {
      username: c.name,
      kong_id: c.kongId,
      metadata: { input_cost_per_token: c.prices.input, output_cost_per_token: c.prices.output },
    });
    assert.equal(res.statusCode, 201, res.body);
    if (c.prices.cached_input) {
      const r = await admin(stack, "POST", `/v1/consumers/${c.name}/rates`, {
        effective_from: "2026-01-01T00:00:00Z",
        input_cost_per_token: c.prices.input,
        output_cost_per_token: c.prices.output,
        cached_input_cost_per_token: c.prices.cached_input,
        cache_write_cost_per_token: c.prices.cache_write,
      });
      assert.equal(r.statusCode, 201, r.body);
      assert.equal(r.json().reasoning_cost_per_token, null);
    }
  }
  await meterLogs(
    stack,
    consumers.flatMap((c) => CALLS.map((call, i) => logOf(c, call, i))),
  );
});
after(async () => {
  await worker.stop();
  await stack.close();
});

describe("token types", () => {
  it("each call's split and cost equal the reference, with and without each type's own price", async () => {
    for (const c of consumers) {
      const events = await stack.db.usageEvent.findMany({
        where: { consumer: { username: c.name } },
        orderBy: { occurredAt: "asc" },
      });
      assert.equal(events.length, CALLS.length);
      events.forEach((e, i) => {
        const want = CALLS[i]!.expect;
        const got = {
          input: e.inputTokens,
          output: e.outputTokens,
          cachedInput: e.cachedInputTokens,
          cacheWrite: e.cacheWriteTokens,
          reasoning: e.reasoningTokens,
        };
        assert.deepEqual(got, want, `${c.name}: ${CALLS[i]!.name}`);
        assert.equal(new Decimal(e.cost.toFixed()).toFixed(), costRef(want, c.prices), `${c.name}: ${CALLS[i]!.name}`);
      });
    }
  });

  it("with only the seed's two prices, the split changes nothing: cost = input x input price + output x output price", async () => {
    const total = CALLS.reduce(
      (s, c) =>
        s.plus(new Decimal(c.expect.input).times(PLAIN.input)).plus(new Decimal(c.expect.output).times(PLAIN.output)),
      new Decimal(0),
    );
    const usage = (
      await admin(
        stack,
        "GET",
        "/v1/consumers/two-prices/usage?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z&group_by=model",
      )
    ).json();
    assert.equal(usage.totals.cost, total.toFixed());
  });

  it("usage and TDL cells show the split; per-type costs sum to the total", async () => {
    const usage = (
      await admin(
        stack,
        "GET",
        "/v1/consumers/typed-prices/usage?from=2026-11-01T00:00:00Z&to=2026-12-01T00:00:00Z&group_by=model",
      )
    ).json();
    const sum = (k: keyof Split) => CALLS.reduce((s, c) => s + c.expect[k], 0);
    const t = usage.totals.by_token_type;
    assert.deepEqual(
      [t.input.tokens, t.cached_input.tokens, t.cache_write.tokens, t.output.tokens, t.reasoning.tokens],
      [
        sum("input") - sum("cachedInput") - sum("cacheWrite"),
        sum("cachedInput"),
        sum("cacheWrite"),
        sum("output") - sum("reasoning"),
        sum("reasoning"),
      ],
    );
    assert.equal(
      t.reasoning.cost,
      new Decimal(sum("reasoning")).times(TYPED.output).toFixed(),
      "reasoning priced as output",
    );
    const byType = Object.values(t as Record<string, { cost: string }>).reduce(
      (s, x) => s.plus(x.cost),
      new Decimal(0),
    );
    assert.equal(byType.toFixed(), usage.totals.cost);
    const cells = await stack.db.tdlCell.findMany({ where: { consumer: { username: "typed-prices" } } });
    const cellSum = (k: "cachedInputTokens" | "cacheWriteTokens" | "reasoningTokens") =>
      cells.reduce((s, c) => s + Number(c[k]), 0);
    assert.deepEqual(
      [cellSum("cachedInputTokens"), cellSum("cacheWriteTokens"), cellSum("reasoningTokens")],
      [sum("cachedInput"), sum("cacheWrite"), sum("reasoning")],
    );
    assert.equal(cells.reduce((s, c) => s.plus(c.cost.toFixed()), new Decimal(0)).toFixed(), usage.totals.cost);
    const detail = (
      await admin(stack, "GET", "/v1/consumers/typed-prices/tdl-matrix?date=2026-11-10&cells=true")
    ).json().cells as Array<{ slot: string; calls: number; tokens: Record<string, number> }>;
    const shown = (k: string) => detail.reduce((s, c) => s + c.tokens[k]!, 0);
    assert.deepEqual(
      [shown("cached_input"), shown("cache_write"), shown("reasoning"), shown("output")],
      [sum("cachedInput"), sum("cacheWrite"), sum("reasoning"), sum("output") - sum("reasoning")],
    );
    assert.deepEqual([...new Set(detail.map((c) => c.slot))], ["T2"], "03:00 UTC is slot T2");
  });

  it("the invoice bills each type on its own line at its price; lines sum to the reference", async () => {
    await tick(stack.billingQueue, "2026-12-01T00:30:00Z");
    const list = (await admin(stack, "GET", "/v1/consumers/typed-prices/invoices?period=2026-11-01")).json().invoices;
    const inv = (await admin(stack, "GET", `/v1/invoices/${list[0].id}`)).json();
    const lines = Object.fromEntries(
      inv.lines.map((l: { token_type: string; quantity: number; unit_price: string }) => [
        l.token_type,
        [l.quantity, l.unit_price],
      ]),
    );
    const sum = (k: keyof Split) => CALLS.reduce((s, c) => s + c.expect[k], 0);
    assert.deepEqual(lines, {
      input: [sum("input") - sum("cachedInput") - sum("cacheWrite"), TYPED.input],
      cached_input: [sum("cachedInput"), TYPED.cached_input],
      cache_write: [sum("cacheWrite"), TYPED.cache_write],
      output: [sum("output") - sum("reasoning"), TYPED.output],
      reasoning: [sum("reasoning"), TYPED.output],
    });
    const ref = CALLS.reduce((s, c) => s.plus(costRef(c.expect, TYPED)), new Decimal(0));
    assert.equal(inv.subtotal, ref.toFixed());
  });

  it("a payload counted here keeps the provider's cached split: our input, their parts", async () => {
    const c = consumers[0]!;
    const entry = kongLog({
      consumer: { id: c.kongId, username: c.name },
      startedAt: AT + 3_600_000,
      ai: {
        proxy: {
          usage: { prompt_tokens: 40, completion_tokens: 2, prompt_tokens_details: { cached_tokens: 16 } },
          meta: { request_model: "gpt-4o", response_model: "gpt-4o" },
          payload: { request: JSON.stringify(CHAT_REQUEST) },
        },
      },
    });
    await meterLogs(stack, [entry]);
    const e = await stack.db.usageEvent.findFirstOrThrow({ where: { id: (entry.request as { id: string }).id } });
    assert.equal(e.inputSource, "counted");
    assert.equal(e.cachedInputTokens, 16);
    assert.equal(
      new Decimal(e.cost.toFixed()).toFixed(),
      costRef({ input: e.inputTokens, output: 2, cachedInput: 16, cacheWrite: 0, reasoning: 0 }, TYPED),
    );
  });
});
