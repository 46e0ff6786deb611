// Authorize counts input tokens off the event loop, within a time budget: an adversarial prompt
// cannot hold up other calls, and past the budget the documented policy decides.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import type { Config } from "../../src/config.ts";
import { buildApp } from "../../src/http/app.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { INGEST_SECRET, importSeed, startStack, type Stack } from "../helpers/stack.ts";

const NOW = new Date("2026-11-24T09:30:00Z");
const llama = { username: "llama2-client" }; // max_input_tokens 24000 in the seed

/** One long piece: the shape that made tiktoken's merge quadratic. */
const ADVERSARIAL = { model: "gpt-4o", messages: [{ role: "user", content: "x".repeat(4 << 20) }] };
const SMALL = { model: "gpt-4o", messages: [{ role: "user", content: "What is the capital of France?" }] };

let stack: Stack;
const apps: FastifyInstance[] = [];

async function appWith(authorize: Partial<Config["authorize"]>) {
  const config = { ...stack.config, authorize: { ...stack.config.authorize, ...authorize } };
  const app = await buildApp({ ...stack, config, logger: createLogger("silent"), clock: () => NOW });
  apps.push(app);
  return app;
}

async function decide(app: FastifyInstance, body: unknown) {
  const t0 = performance.now();
  const res = await app.inject({
    method: "POST",
    url: "/v1/gateway/authorize",
    headers: { authorization: `Bearer ${INGEST_SECRET}`, "content-type": "application/json" },
    payload: JSON.stringify({ consumer: llama, route: { name: "llama2-chat" }, body: JSON.stringify(body) }),
  });
  assert.equal(res.statusCode, 200, res.body);
  return { decision: res.json(), ms: performance.now() - t0, doneAt: performance.now() };
}

before(async () => {
  stack = await startStack({ BILLING_TIMEZONE: "UTC", AUTHORIZE_COUNT_BUDGET_MS: "50" }, { meter: false, clock: () => NOW });
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
