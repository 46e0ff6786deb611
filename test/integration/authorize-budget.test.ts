// Authorize counts input tokens off the event loop, within a time budget: an adversarial prompt
// cannot hold up other calls, and past the budget the documented policy decides. What counting
// cannot see (images, audio, files, a body the gateway could not read) is bounded, and no check
// waits on counting.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import type { Config } from "../../src/config.ts";
import { startApi } from "../../src/composition.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { INGEST_SECRET, importSeed, startStack, type Stack } from "../helpers/stack.ts";
import { lettersInNoOrder } from "../../scripts/bench/corpus.ts";

const NOW = new Date("2026-11-24T09:30:00Z");
const llama = { username: "llama2-client" }; // max_input_tokens 24000 in the seed

/** One long piece that never repeats itself: the costliest shape to count. */
const ADVERSARIAL = { model: "gpt-4o", messages: [{ role: "user", content: lettersInNoOrder(4 << 20) }] };
const SMALL = { model: "gpt-4o", messages: [{ role: "user", content: "What is the capital of France?" }] };

let stack: Stack;
const apps: FastifyInstance[] = [];

async function appWith(authorize: Partial<Config["authorize"]>) {
  const config = { ...stack.config, authorize: { ...stack.config.authorize, ...authorize } };
  const app = await startApi({ ...stack, config, logger: createLogger("silent"), clock: () => NOW });
  apps.push(app);
  return app;
}

async function decide(app: FastifyInstance, body: unknown, route = "llama2-chat") {
  const t0 = performance.now();
  const res = await app.inject({
    method: "POST",
    url: "/v1/gateway/authorize",
    headers: { authorization: `Bearer ${INGEST_SECRET}`, "content-type": "application/json" },
    payload: JSON.stringify({
      consumer: llama,
      route: { name: route },
      body: body === null ? null : JSON.stringify(body),
    }),
  });
  assert.equal(res.statusCode, 200, res.body);
  return { decision: res.json(), ms: performance.now() - t0, doneAt: performance.now() };
}

before(async () => {
  stack = await startStack(
    { BILLING_TIMEZONE: "UTC", AUTHORIZE_COUNT_BUDGET_MS: "50", CAPABILITY_MAP: '{"image-route":"2"}' },
    { meter: false, clock: () => NOW },
  );
  assert.equal((await importSeed(stack)).summary.created, 2);
});
after(async () => {
  for (const app of apps) await app.close();
  await stack.close();
});

describe("authorize: counting budget", () => {
  it("past the budget, a body that may exceed max_input_tokens is allowed by default and says it was not counted", async () => {
    const { decision } = await decide(stack.app, ADVERSARIAL);
    assert.equal(decision.allow, true);
    assert.equal(decision.checks.token_count, "over_budget");
    assert.equal(decision.checks.input_tokens, null);
    assert.ok(decision.checks.input_tokens_estimate > 24000);
    assert.equal(decision.checks.level, 9, "the load level follows the size estimate");
  });

  it("with AUTHORIZE_COUNT_OVER_BUDGET=deny the same body is refused with its own reason", async () => {
    const app = await appWith({ countOverBudget: "deny" });
    const { decision } = await decide(app, ADVERSARIAL);
    assert.equal(decision.allow, false);
    assert.equal(decision.status, 403);
    assert.equal(decision.reason.code, "input_tokens_uncounted");
    assert.equal(decision.reason.limit, 24000);
  });

  it("a body counted within the budget is checked exactly, as before", async () => {
    // a budget no machine misses for 30k ordinary tokens: the point is the exact check, not speed
    const app = await appWith({ countBudgetMs: 10_000 });
    const over = { model: "gpt-4o", messages: [{ role: "user", content: "hello ".repeat(30_000) }] };
    const { decision } = await decide(app, over);
    assert.equal(decision.allow, false);
    assert.equal(decision.reason.code, "input_tokens_over_limit");
    assert.equal(decision.checks.token_count, undefined, "counted, not estimated");
    assert.ok(decision.checks.input_tokens > 24000);
  });

  it("other calls are answered while a worker counts an adversarial prompt", async () => {
    const app = await appWith({ countBudgetMs: 3000 });
    const slow = decide(app, ADVERSARIAL);
    await new Promise((r) => setTimeout(r, 20)); // the adversarial body is with a worker now
    const quick = await Promise.all(Array.from({ length: 20 }, () => decide(app, SMALL)));
    const adversarial = await slow;
    assert.ok(quick.every((q) => q.decision.allow && q.decision.checks.input_tokens > 0));
    assert.ok(
      quick.every((q) => q.doneAt < adversarial.doneAt),
      `small calls done at ${Math.max(...quick.map((q) => q.doneAt - adversarial.doneAt + adversarial.ms)).toFixed(0)} ms, adversarial at ${adversarial.ms.toFixed(0)} ms`,
    );
  });
});

const imageUrl = (i: number) => ({
  type: "image_url",
  image_url: { url: `https://example.com/${i}.png`, detail: "high" },
});
const withImages = (n: number) => ({
  model: "gpt-4o",
  messages: [
    {
      role: "user",
      content: [{ type: "text", text: "Describe these." }, ...Array.from({ length: n }, (_, i) => imageUrl(i))],
    },
  ],
});

describe("authorize: what counting cannot see", () => {
  it("past the counting budget, the body's model, max-tokens and capability are still checked", async () => {
    const { decision: overCap } = await decide(stack.app, { ...ADVERSARIAL, max_tokens: 9000 });
    assert.equal(overCap.checks.token_count, "over_budget");
    assert.equal(overCap.checks.model, "gpt-4o", "the body's model, not a default");
    assert.equal(overCap.reason.code, "max_tokens_over_limit");
    const { decision: negative } = await decide(stack.app, { ...ADVERSARIAL, max_tokens: -1 });
    assert.equal(negative.reason.code, "max_tokens_invalid");
    const { decision: capability } = await decide(stack.app, ADVERSARIAL, "image-route");
    assert.equal(capability.reason.code, "capability_not_granted");
  });

  it("images count toward max_input_tokens and the load level, bounded by the model's formula", async () => {
    const { decision: three } = await decide(stack.app, withImages(3));
    assert.equal(three.allow, true);
    assert.deepEqual(three.checks.non_text, { image: 3, tokens_bound: 3 * 1445 });
    assert.ok(three.checks.input_tokens_bound > 3 * 1445 && three.checks.input_tokens_bound < 3 * 1445 + 30);
    assert.equal(three.checks.level, 5, "about 4 350 tokens: level 5, not the text's level 0");
    const { decision: twenty } = await decide(stack.app, withImages(20));
    assert.equal(twenty.allow, false);
    assert.equal(twenty.reason.code, "input_tokens_over_limit");
    assert.match(twenty.reason.message, /28900 of them for images, audio or files/);
  });

  it("a body the gateway could not read is held at the consumer's max_input_tokens, and says so", async () => {
    const { decision } = await decide(stack.app, null);
    assert.equal(decision.allow, true);
    assert.equal(decision.checks.body, "missing");
    assert.equal(decision.checks.input_tokens_bound, 24000);
    assert.equal(decision.checks.level, 7, "24 000 tokens: level 7");
  });

  it("a body sent as JSON nested 20 000 deep is answered, not failed", async () => {
    const depth = 20_000;
    const deep = `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
    const body = `{"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"max_tokens":10,"x":${deep}}`;
    const res = await stack.app.inject({
      method: "POST",
      url: "/v1/gateway/authorize",
      headers: { authorization: `Bearer ${INGEST_SECRET}`, "content-type": "application/json" },
      payload: `{"consumer":{"username":"llama2-client"},"route":{"name":"llama2-chat"},"body":${body}}`,
    });
    assert.equal(res.statusCode, 200, res.body.slice(0, 300));
    assert.equal(res.json().checks.max_tokens, 10);
  });

  it("a body in a format the counter does not read is bounded by its bytes", async () => {
    // small enough to be counted inline, so the budget's workers play no part
    const gemini = { contents: [{ role: "user", parts: [{ text: "word ".repeat(1000) }] }] };
    const { decision } = await decide(stack.app, gemini);
    assert.equal(decision.checks.token_count, "unknown_format");
    assert.ok(decision.checks.input_tokens_bound >= 5000, `bound ${decision.checks.input_tokens_bound}`);
  });
});
