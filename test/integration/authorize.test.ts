// The gateway's authorize decision against the real PostgreSQL and Redis: every deny reason, the
// TDL limit of the seed tripping after N calls, the X-User-* headers byte for byte, and cache
// invalidation across API processes. The clock is fixed at 09:30 UTC: slot T5.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startApi } from "../../src/composition.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { MetadataCache } from "../../src/authorize/metadata-cache.ts";
import { INGEST_SECRET, admin, importSeed, startStack, type Stack } from "../helpers/stack.ts";
import { waitFor } from "../helpers/wait.ts";

const NOW = new Date("2026-11-24T09:30:00Z");
const T5 = 4;

/** A chat body of about `tokens` input tokens (" hello" is one token in cl100k and o200k). */
const chat = (tokens: number, extra: Record<string, unknown> = {}) => ({
  model: "gpt-4o-mini",
  messages: [{ role: "user", content: "hello".concat(" hello".repeat(tokens - 1)) }],
  ...extra,
});
const LEVEL_5 = chat(5000); // 4096 <= tokens < 8192: the seed's T5 limit of 3 calls applies
const LEVEL_0 = chat(10);

type Call = { consumer: Record<string, string>; route?: Record<string, string>; body?: unknown; model?: string };

describe("authorize", () => {
  let stack: Stack;
  const decide = async (call: Call, app = stack.app) => {
    const res = await app.inject({
      method: "POST",
      url: "/v1/gateway/authorize",
      headers: { authorization: `Bearer ${INGEST_SECRET}`, "content-type": "application/json" },
      payload: JSON.stringify({
        route: { name: "llama2-chat" },
        ...call,
        body: typeof call.body === "string" ? call.body : JSON.stringify(call.body ?? LEVEL_0),
      }),
    });
    assert.equal(res.statusCode, 200, res.body);
    return res.json();
  };
  const llama = { username: "llama2-client" };
  const premium = { custom_id: "client-002" };

  before(async () => {
    stack = await startStack(
      { BILLING_TIMEZONE: "UTC", CAPABILITY_MAP: '{"image-route":"2"}' },
      { meter: false, clock: () => NOW },
    );
    assert.equal((await importSeed(stack)).summary.created, 2);
  });
  after(async () => stack.close());

  it("the metadata cache holds a bounded number of consumers, dropping the oldest first", async () => {
    const cache = new MetadataCache(stack.db, {
      ttlMs: 60_000,
      redisPrefix: "bound-test",
      logger: createLogger("silent"),
      maxEntries: 3,
    });
    for (let i = 0; i < 10; i++) await cache.lookup({ username: `nobody-${i}` });
    assert.equal(cache.size, 3);
    const seed = await cache.lookup({ username: "llama2-client" });
    assert.equal(seed?.configured, true, "a lookup past the bound is still answered");
    assert.equal(cache.size, 3);
  });

  it("allows a call and returns the X-User-* headers byte for byte in the seed's format", async () => {
    const d = await decide({ consumer: llama, body: LEVEL_5 });
    assert.equal(d.allow, true);
    assert.equal(d.checks.slot, "T5");
    assert.equal(d.checks.level, 5);
    const zeros = "[0,0,0,0,0,0,0,0,0,0]";
    const rows = Array.from({ length: 12 }, (_, i) => `"T${i + 1}":${i === T5 ? "[0,0,0,0,0,1,0,0,0,0]" : zeros}`);
    assert.deepEqual(Object.entries(d.headers), [
      ["X-User-TDL-Matrix", `{${rows.join(",")}}`],
      ["X-User-Capabilities", "[1,1,0,0,0]"],
      ["X-Consumer-ID", "kt-llama3-1"],
      ["X-User-Max-Input-Tokens", "24000"],
      ["X-User-Max-Output-Tokens", "8000"],
      ["X-User-Input-Cost", "0.000000083"],
      ["X-User-Output-Cost", "0.00000033"],
      ["X-User-Provider", "kt"],
      ["X-User-Tags", '["뭘봐임마"]'],
    ]);
  });

  it("denies a capability the consumer is not granted (403), and grants it where it is", async () => {
    const d = await decide({ consumer: llama, route: { name: "image-route" } });
    assert.equal(d.allow, false);
    assert.equal(d.status, 403);
    assert.equal(d.reason.code, "capability_not_granted");
    assert.equal(d.reason.capability, 2);
    assert.deepEqual(d.headers, {});
    assert.equal((await decide({ consumer: premium, route: { name: "image-route" } })).allow, true);
  });

  it("denies input over max_input_tokens, counted with tiktoken (403)", async () => {
    const d = await decide({ consumer: llama, body: chat(24_500) });
    assert.equal(d.status, 403);
    assert.equal(d.reason.code, "input_tokens_over_limit");
    assert.equal(d.reason.limit, 24000);
    assert.ok(d.reason.actual > 24000 && d.reason.actual < 24_520, String(d.reason.actual));
    assert.equal((await decide({ consumer: premium, body: chat(24_500) })).allow, true, "premium allows 50000");
  });

  it("denies a requested max_tokens over max_output_tokens (403), under either name", async () => {
    for (const extra of [{ max_tokens: 8001 }, { max_completion_tokens: 9000 }]) {
      const d = await decide({ consumer: llama, body: chat(10, extra) });
      assert.equal(d.status, 403);
      assert.deepEqual([d.reason.code, d.reason.limit], ["max_tokens_over_limit", 8000]);
    }
    assert.equal((await decide({ consumer: llama, body: chat(10, { max_tokens: 8000 }) })).allow, true);
  });

  it("trips the TDL limit after N calls in the slot and level, not before (429); denials used no call", async () => {
    // one T5 level-5 call was allowed in the first test; the seed allows 3
    const second = await decide({ consumer: llama, body: LEVEL_5 });
    const third = await decide({ consumer: llama, body: LEVEL_5 });
    assert.deepEqual(
      [second.allow, second.checks.cell_calls, third.allow, third.checks.cell_calls],
      [true, 2, true, 3],
    );
    const fourth = await decide({ consumer: llama, body: LEVEL_5 });
    assert.equal(fourth.allow, false);
    assert.equal(fourth.status, 429);
    assert.deepEqual(
      {
        code: fourth.reason.code,
        slot: fourth.reason.slot,
        level: fourth.reason.level,
        limit: fourth.reason.limit,
        actual: fourth.reason.actual,
      },
      { code: "tdl_limit_reached", slot: "T5", level: 5, limit: 3, actual: 3 },
    );
    assert.equal((await decide({ consumer: llama, body: LEVEL_0 })).allow, true, "level 0 of T5 has no limit");
    assert.equal((await decide({ consumer: premium, body: LEVEL_5 })).allow, true, "premium's matrix has no limits");
  });

  it("admits exactly N of many concurrent calls for a cell with limit N", async () => {
    const matrix = { T5: [5, 0, 0, 0, 0, 0, 0, 0, 0, 0] };
    await admin(stack, "POST", "/v1/consumers", {
      username: "burst-client",
      metadata: { id: "burst", tdl_matrix: matrix },
    });
    const decisions = await Promise.all(
      Array.from({ length: 20 }, () => decide({ consumer: { username: "burst-client" } })),
    );
    assert.equal(decisions.filter((d) => d.allow).length, 5);
    assert.ok(decisions.filter((d) => !d.allow).every((d) => d.reason.code === "tdl_limit_reached"));
  });

  it("starts a day's counters from the metered matrix, so calls already made count", async () => {
    const c = (
      await admin(stack, "POST", "/v1/consumers", {
        username: "metered-client",
        metadata: { id: "m", tdl_matrix: { T5: [3, 0, 0, 0, 0, 0, 0, 0, 0, 0] } },
      })
    ).json();
    await stack.db.tdlCell.create({
      data: { consumerId: c.id, localDate: new Date("2026-11-24T00:00:00Z"), slot: T5, level: 0, calls: 2 },
    });
    const first = await decide({ consumer: { username: "metered-client" } });
    assert.deepEqual([first.allow, first.checks.cell_calls], [true, 3]);
    assert.equal((await decide({ consumer: { username: "metered-client" } })).reason?.code, "tdl_limit_reached");
  });

  it("sees a metadata change at once, in this process and in another API process", async () => {
    const logger = createLogger("silent");
    const other = await startApi({ ...stack, logger, clock: () => NOW });
    try {
      const big = chat(10, { max_tokens: 15_000 });
      assert.equal((await decide({ consumer: premium, body: big }, other)).allow, true); // now cached there
      assert.equal((await decide({ consumer: premium, body: big })).allow, true);
      const patch = await admin(stack, "PATCH", "/v1/consumers/premium-client", {
        metadata: { max_output_tokens: 10_000 },
      });
      assert.equal(patch.statusCode, 200);
      assert.equal((await decide({ consumer: premium, body: big })).reason?.code, "max_tokens_over_limit");
      // the other process learns it through Redis, long before its 30 s cache TTL
      const started = Date.now();
      await waitFor(
        async () => (await decide({ consumer: premium, body: big }, other)).allow === false,
        5000,
        "the other process to see the change",
      );
      assert.ok(Date.now() - started < 5000);
    } finally {
      await other.close();
    }
  });

  it("allows an unknown consumer without headers, and refuses callers without Kong's secret", async () => {
    const d = await decide({ consumer: { username: "stranger" } });
    assert.deepEqual([d.allow, d.consumer_id, d.headers], [true, null, {}]);
    const noSecret = await stack.app.inject({
      method: "POST",
      url: "/v1/gateway/authorize",
      payload: { consumer: llama },
    });
    assert.equal(noSecret.statusCode, 401);
    const noConsumer = await stack.app.inject({
      method: "POST",
      url: "/v1/gateway/authorize",
      headers: { authorization: `Bearer ${INGEST_SECRET}` },
      payload: { consumer: {} },
    });
    assert.equal(noConsumer.statusCode, 400);
    assert.equal(noConsumer.json().error.field, "consumer");
  });
});

describe("authorize without Redis", () => {
  it("checks the TDL limit against the metered matrix instead of failing the call", async () => {
    // nothing listens on this port: every Redis command fails at once
    const stack = await startStack(
      { BILLING_TIMEZONE: "UTC", REDIS_URL: "redis://127.0.0.1:6399" },
      { meter: false, clock: () => NOW },
    );
    try {
      const c = (
        await admin(stack, "POST", "/v1/consumers", {
          username: "offline-client",
          metadata: { id: "o", tdl_matrix: { T5: [2, 0, 0, 0, 0, 0, 0, 0, 0, 0] } },
        })
      ).json();
      const ask = async () =>
        (
          await stack.app.inject({
            method: "POST",
            url: "/v1/gateway/authorize",
            headers: { authorization: `Bearer ${INGEST_SECRET}` },
            payload: { consumer: { username: "offline-client" }, body: JSON.stringify(LEVEL_0) },
          })
        ).json();
      const first = await ask();
      assert.deepEqual([first.allow, first.checks.tdl_source, first.checks.cell_calls], [true, "metered", 1]);
      await stack.db.tdlCell.create({
        data: { consumerId: c.id, localDate: new Date("2026-11-24T00:00:00Z"), slot: T5, level: 0, calls: 2 },
      });
      const second = await ask();
      assert.deepEqual([second.allow, second.reason.code], [false, "tdl_limit_reached"]);
    } finally {
      await stack.close();
    }
  });
});
