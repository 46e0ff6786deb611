// Per-key rate limits on the API against the real Redis: each key has its own allowance, shared
// by every API process; a spent key gets 429 with Retry-After; wrong keys from one address are
// refused outright after a few, even when the next one would be right; Kong's gateway routes are
// never limited; without Redis each process limits on its own.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Redis } from "ioredis";
import { startApi } from "../../src/composition.ts";
import { RateLimiter } from "../../src/http/rate-limit.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { ADMIN_KEY, INGEST_SECRET, admin, importSeed, startStack, type Stack } from "../helpers/stack.ts";

let stack: Stack;

before(async () => {
  stack = await startStack({ RATE_LIMIT_PER_MINUTE: "6", RATE_LIMIT_FAILED_AUTH_PER_MINUTE: "3" }, { meter: false });
  await importSeed(stack);
});
after(() => stack.close());

const get = (app: typeof stack.app, key: string, remoteAddress = "127.0.0.1") =>
  app.inject({ method: "GET", url: "/v1/consumers", headers: { authorization: `Bearer ${key}` }, remoteAddress });

describe("rate limits", () => {
  it("a key's allowance is shared by every API process; past it, 429 with Retry-After; other keys go on", async () => {
    const second = await startApi({ ...stack, logger: createLogger("silent") });
    try {
      const keyRes = await admin(stack, "POST", "/v1/consumers/llama2-client/api-keys", {});
      assert.equal(keyRes.statusCode, 201, keyRes.body);
      const consumerKey = keyRes.json().key as string;
      // the admin key has used some of its 6 already (the import, the consumer key): the rest across two processes
      const first = await get(stack.app, ADMIN_KEY);
      const left = Number(first.headers["ratelimit-remaining"]);
      assert.ok(first.statusCode === 200 && left >= 1 && left <= 3, `remaining ${left}`);
      const answers = [];
      for (let i = 0; i < left; i++) answers.push(await get(i % 2 ? stack.app : second, ADMIN_KEY));
      assert.deepEqual(
        answers.map((r) => r.statusCode),
        Array(left).fill(200),
      );
      assert.deepEqual(
        answers.map((r) => Number(r.headers["ratelimit-remaining"])),
        Array.from({ length: left }, (_, i) => left - 1 - i),
      );
      const refused = await get(second, ADMIN_KEY);
      assert.equal(refused.statusCode, 429);
      assert.equal(refused.json().error.code, "rate_limited");
      const wait = Number(refused.headers["retry-after"]);
      assert.ok(wait >= 1 && wait <= 10, `Retry-After ${wait}`);
      const own = await stack.app.inject({
        method: "GET",
        url: "/v1/consumers/llama2-client/usage",
        headers: { authorization: `Bearer ${consumerKey}` },
      });
      assert.equal(own.statusCode, 200, "a consumer's key has its own allowance");
    } finally {
      await second.close();
    }
  });

  it("wrong keys from one address are refused after a few, and then even a right key from there is not tried", async () => {
    const address = "203.0.113.7";
    const wrong = [];
    for (let i = 0; i < 4; i++) wrong.push((await get(stack.app, `guess-${i}-0123456789abcdef`, address)).statusCode);
    assert.deepEqual(wrong, [401, 401, 401, 429]);
    assert.equal(
      (await get(stack.app, ADMIN_KEY, address)).statusCode,
      429,
      "no guess is tried once the address is out of attempts",
    );
    const other = await get(stack.app, `guess-x-0123456789abcdef`, "198.51.100.9");
    assert.equal(other.statusCode, 401, "another address has its own attempts");

    // behind a trusted load balancer, the client's address comes from X-Forwarded-For
    const behind = await startApi({
      ...stack,
      config: { ...stack.config, http: { ...stack.config.http, trustProxy: ["10.0.0.2"] } },
      logger: createLogger("silent"),
    });
    try {
      const via = (client: string) =>
        behind.inject({
          method: "GET",
          url: "/v1/consumers",
          headers: { authorization: "Bearer wrong-0123456789abcdef", "x-forwarded-for": client },
          remoteAddress: "10.0.0.2",
        });
      const one = [];
      for (let i = 0; i < 4; i++) one.push((await via("192.0.2.50")).statusCode);
      assert.deepEqual(one, [401, 401, 401, 429]);
      assert.equal((await via("192.0.2.51")).statusCode, 401, "another client behind the same balancer is not refused");
    } finally {
      await behind.close();
    }
  });

  it("Kong's gateway routes are never limited", async () => {
    for (let i = 0; i < 20; i++) {
      const res = await stack.app.inject({
        method: "POST",
        url: "/v1/gateway/authorize",
        headers: { authorization: `Bearer ${INGEST_SECRET}`, "content-type": "application/json" },
        payload: JSON.stringify({
          consumer: { username: "premium-client" },
          body: JSON.stringify({ model: "gpt-4o", messages: [] }),
        }),
      });
      assert.equal(res.statusCode, 200);
    }
  });

  it("with Redis away each process limits on its own", async () => {
    const away = new Redis({ port: 1, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    try {
      const limiter = new RateLimiter(away, "away");
      const verdicts = [];
      for (let i = 0; i < 4; i++) verdicts.push((await limiter.take("k", 3)).allowed);
      assert.deepEqual(verdicts, [true, true, true, false]);
      assert.equal((await limiter.take("other", 3)).allowed, true);
    } finally {
      away.disconnect();
    }
  });
});
