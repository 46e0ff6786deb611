// Authorize under hostile bodies and concurrency, against the real Redis: bodies with every
// max-tokens spelling and every kind of number, images, audio and files, missing, empty,
// non-JSON and oversized bodies, counting that runs out of time; many at once against one hard
// budget. Whatever arrives: the ledger never holds more than the limit, no hold is negative, every
// ledger operation (read, release, fold) succeeds, every refusal names its reason, and every call
// let through is held at no less than what the upstream can be made to generate.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { CHOICE_FIELDS, OUTPUT_CAP_FIELDS } from "../../src/authorize/output-cap.ts";
import { currentBudget } from "../../src/budgets/budget.repository.ts";
import { budgetPeriodAt, microDown } from "../../src/budgets/budget.ts";
import { HoldLedger } from "../../src/budgets/hold-ledger.ts";
import { foldLedger, refOf } from "../../src/budgets/ledger-fold.ts";
import { admin, INGEST_SECRET, startStack, type Stack } from "../helpers/stack.ts";

const runs = Number(process.env.PROPERTY_RUNS ?? 25);
const REASONS = new Set([
  "capability_not_granted",
  "input_tokens_over_limit",
  "input_tokens_uncounted",
  "max_tokens_invalid",
  "max_tokens_over_limit",
  "budget_exhausted",
  "model_unpriced",
  "tdl_limit_reached",
  "consumer_not_configured",
  "body_unreadable",
]);
let stack: Stack;
let ledger: HoldLedger;

before(async () => {
  // a counting budget so small that large bodies run out of it
  stack = await startStack(
    { BILLING_TIMEZONE: "UTC", AUTHORIZE_COUNT_BUDGET_MS: "2", AUTHORIZE_COUNT_OVER_BUDGET: "allow" },
    { meter: false },
  );
  ledger = new HoldLedger(stack.redis, stack.config.redis.prefix);
});
after(() => stack.close());

/** Sets `path` (dotted) in `body`, making objects on the way. */
function put(body: Record<string, unknown>, path: string, value: unknown) {
  const keys = path.split(".");
  let at = body;
  for (const k of keys.slice(0, -1))
    at = (at[k] = typeof at[k] === "object" && at[k] !== null ? at[k] : {}) as Record<string, unknown>;
  at[keys[keys.length - 1]!] = value;
}

const number = fc.oneof(
  fc.integer({ min: -5, max: 5 }),
  fc.integer({ min: 1, max: 100_000 }),
  fc.constantFrom(2 ** 31 - 1, 2 ** 31, 2 ** 53, 1e300, -0, 0.5, 1.5, Number.MAX_SAFE_INTEGER),
  fc.double({ noNaN: true }),
  fc.constantFrom("100", " 64 ", "1e3", "-1", "0x10", "", "12.5", "９"),
  fc.constantFrom(null, true, [100], { n: 1 }),
);
const PNG = Buffer.from("89504e470d0a1a0a0000000d494844520000040000000300", "hex").toString("base64");
const part = fc.oneof(
  fc.string({ maxLength: 200 }).map((text) => ({ type: "text", text })),
  fc.constant({ type: "image_url", image_url: { url: "https://example.com/a.png", detail: "high" } }),
  fc.constant({ type: "image_url", image_url: { url: `data:image/png;base64,${PNG}` } }),
  fc.constant({ type: "input_audio", input_audio: { data: "A".repeat(2000), format: "wav" } }),
  fc.constant({ type: "file", file: { file_id: "file-123" } }),
);
const chatBody = fc
  .record({
    model: fc.constantFrom("gpt-4o", "gpt-4o-mini", "claude-3-5-sonnet", "gemini-1.5-pro"),
    content: fc.oneof(fc.string({ maxLength: 500 }), fc.array(part, { maxLength: 4 })),
    caps: fc.array(fc.tuple(fc.constantFrom(...OUTPUT_CAP_FIELDS, ...CHOICE_FIELDS), number), { maxLength: 3 }),
  })
  .map(({ model, content, caps }) => {
    const body: Record<string, unknown> = { model, messages: [{ role: "user", content }] };
    for (const [field, value] of caps) put(body, field, value);
    return JSON.stringify(body);
  });
const body = fc.oneof(
  { weight: 8, arbitrary: chatBody },
  { weight: 1, arbitrary: fc.constantFrom(null, "", "not json at all", "[1,2,3]", '{"model":') },
  // past the counting budget: one long piece, with a cap
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1, max: 9000 }).map((cap) =>
      JSON.stringify({
        model: "gpt-4o",
        max_tokens: cap,
        messages: [{ role: "user", content: "x".repeat(200_000) }],
      }),
    ),
  },
);

describe("authorize against a hard budget", () => {
  it("property: hostile bodies at once never take the ledger past the limit, and every decision says why", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 200_000 }).map((m) => (m / 1_000_000).toFixed(6)),
        fc.option(fc.integer({ min: 1, max: 500_000 }), { nil: undefined }),
        fc.constantFrom("auto", "off", "max_completion_tokens"),
        fc.array(body, { minLength: 1, maxLength: 25 }),
        async (amount, tokens, cap_output, bodies) => {
          const username = `prop-${randomUUID().slice(0, 8)}`;
          const created = await admin(stack, "POST", "/v1/consumers", {
            username,
            metadata: { input_cost_per_token: "0.0000025", output_cost_per_token: "0.00001", max_output_tokens: 8192 },
          });
          assert.equal(created.statusCode, 201, created.body);
          const id = created.json().id as string;
          const set = await admin(stack, "PUT", `/v1/consumers/${id}/budget`, {
            period: "daily",
            amount,
            ...(tokens ? { tokens } : {}),
            cap_output,
          });
          assert.equal(set.statusCode, 200, set.body);

          const answers = await Promise.all(
            bodies.map((b) =>
              stack.app.inject({
                method: "POST",
                url: "/v1/gateway/authorize",
                headers: { authorization: `Bearer ${INGEST_SECRET}`, "content-type": "application/json" },
                payload: JSON.stringify({ consumer: { username }, body: b, request_id: randomUUID() }),
              }),
            ),
          );
          const holds: string[] = [];
          for (const [i, res] of answers.entries()) {
            assert.equal(res.statusCode, 200, `body ${i}: ${res.body}`);
            const d = res.json();
            if (!d.allow) {
              assert.ok(REASONS.has(d.reason?.code), `body ${i}: refusal without a known reason: ${res.body}`);
              assert.ok(typeof d.reason.message === "string" && d.reason.message.length > 0);
              assert.ok([403, 429].includes(d.status));
              continue;
            }
            const b = d.checks.budget;
            assert.ok(b?.hold_id, `body ${i}: let through without a hold: ${res.body}`);
            holds.push(b.hold_id);
            // what the upstream can be made to generate, per completion
            const capped = d.body_fields
              ? Math.max(...Object.values(d.body_fields as Record<string, number>))
              : d.checks.max_tokens;
            if (capped !== null && capped !== undefined) {
              assert.ok(Number.isInteger(capped) && capped >= 1, `body ${i}: cap ${capped}`);
              const least = d.checks.input_tokens_bound + capped * (d.checks.choices ?? 1);
              assert.ok(b.hold_tokens >= least, `body ${i}: held ${b.hold_tokens} tokens, the call can take ${least}`);
            } else {
              // only a budget that does not cap output, or a body no JSON API generates from, goes uncapped
              const uncappable =
                ["not_json"].includes(d.checks.token_count) ||
                (d.checks.input_tokens === null && d.checks.input_tokens_bound === 0);
              assert.ok(
                cap_output === "off" || uncappable,
                `body ${i}: an uncapped call let through while the budget caps output: ${JSON.stringify(d.checks)}`,
              );
            }
          }

          const budget = (await currentBudget(stack.db, { consumerId: id }))!;
          const ref = refOf(budget, budgetPeriodAt(budget, new Date(), "UTC"));
          const state = await ledger.read(ref);
          if (state) {
            assert.ok(
              BigInt(state.committedMoney + state.heldMoney) <= BigInt(microDown(budget.amount!)),
              `held ${state.heldMoney} micro-units, limit ${amount}`,
            );
            if (tokens)
              assert.ok(
                state.committedTokens + state.heldTokens <= tokens,
                `held ${state.heldTokens} tokens, limit ${tokens}`,
              );
            assert.equal(state.holds, holds.length);
            const entries = await stack.redis.hgetall(ledger.keys(ref)[1]!);
            for (const [hold, entry] of Object.entries(entries)) {
              const [money, toks] = entry.split("|");
              assert.ok(/^\d+$/.test(money!) && /^\d+$/.test(toks!), `hold ${hold}: ${entry}`);
            }
          }
          // every ledger operation succeeds on what authorize wrote
          for (const h of holds) await ledger.release(ref, h);
          await foldLedger(
            { db: stack.db, ledger, config: stack.config },
            budget,
            budgetPeriodAt(budget, new Date(), "UTC"),
          );
          const emptied = await ledger.read(ref);
          assert.equal(emptied?.heldMoney ?? 0, 0);
          assert.equal(emptied?.holds ?? 0, 0);
        },
      ),
      { numRuns: runs },
    );
  });
});
