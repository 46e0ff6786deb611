// Admin API for consumers, metadata and rates: happy paths, errors that name the field, auth.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { admin, startStack, type Stack } from "../helpers/stack.ts";

let stack: Stack;
before(async () => {
  stack = await startStack({}, { meter: false });
});
after(() => stack.close());

const SEED_MATRIX = {
  T1: [0, 0, 0, 0, 0, 3, 0, 0, 0, 0],
  T2: [0, 0, 0, 0, 0, 3, 0, 0, 0, 0],
};

describe("consumers API", () => {
  it("creates a consumer with the seed's metadata and reads it back", async () => {
    const res = await admin(stack, "POST", "/v1/consumers", {
      username: "llama2-client",
      custom_id: "client-001",
      metadata: {
        id: "kt-llama3-1",
        provider_name: "kt",
        tags: ["뭘봐임마"],
        tdl_matrix: SEED_MATRIX,
        capabilities: [1, 1, 0, 0, 0],
        max_input_tokens: 24000,
        max_output_tokens: 8000,
        input_cost_per_token: "0.000000083",
        output_cost_per_token: "0.00000033",
      },
    });
    assert.equal(res.statusCode, 201, res.body);
    const created = res.json();
    assert.equal(created.configured, true);
    assert.deepEqual(created.metadata.tags, ["뭘봐임마"]);
    assert.equal(created.metadata.input_cost_per_token, "0.000000083");
    assert.equal(created.metadata.output_cost_per_token, "0.00000033");
    assert.deepEqual(created.metadata.tdl_matrix.T1, SEED_MATRIX.T1);
    assert.deepEqual(created.metadata.tdl_matrix.T12, Array(10).fill(0));

    for (const ref of [created.id, "llama2-client"]) {
      const got = await admin(stack, "GET", `/v1/consumers/${ref}`);
      assert.equal(got.statusCode, 200);
      assert.deepEqual(got.json(), created);
    }
  });

  it("a price change becomes a new rate from its effective time; the old one still prices older calls", async () => {
    await admin(stack, "POST", "/v1/consumers", {
      username: "rated",
      metadata: { input_cost_per_token: "0.000001", output_cost_per_token: "0.000002" },
    });
    const patched = await admin(stack, "PATCH", "/v1/consumers/rated", {
      metadata: { input_cost_per_token: "0.0000015" },
      rates_effective_from: "2026-11-15T00:00:00Z",
    });
    assert.equal(patched.statusCode, 200, patched.body);
    assert.equal(patched.json().metadata.input_cost_per_token, "0.0000015");
    assert.equal(patched.json().metadata.output_cost_per_token, "0.000002", "the other price carries over");
    const rates = (await admin(stack, "GET", "/v1/consumers/rated/rates")).json().rates;
    assert.deepEqual(
      rates.map((r: { effective_from: string; input_cost_per_token: string }) => [
        r.effective_from,
        r.input_cost_per_token,
      ]),
      [
        ["1970-01-01T00:00:00.000Z", "0.000001"],
        ["2026-11-15T00:00:00.000Z", "0.0000015"],
      ],
    );
    const added = await admin(stack, "POST", "/v1/consumers/rated/rates", {
      effective_from: "2026-12-01T00:00:00+09:00",
      input_cost_per_token: "0.000003",
      output_cost_per_token: "0.000004",
    });
    assert.equal(added.statusCode, 201);
    assert.equal(added.json().effective_from, "2026-11-30T15:00:00.000Z");
    const dup = await admin(stack, "POST", "/v1/consumers/rated/rates", {
      effective_from: "2026-12-01T00:00:00+09:00",
      input_cost_per_token: "1",
      output_cost_per_token: "1",
    });
    assert.equal(dup.statusCode, 409);
    assert.equal(dup.json().error.field, "effective_from");
  });

  const invalid: Array<[string, unknown, string]> = [
    ["no identity", { metadata: {} }, "username"],
    [
      "a price with 13 decimals",
      { username: "x1", metadata: { input_cost_per_token: "0.0000000000001" } },
      "metadata.input_cost_per_token",
    ],
    ["a negative price", { username: "x2", metadata: { output_cost_per_token: -1 } }, "metadata.output_cost_per_token"],
    ["a short TDL row", { username: "x3", metadata: { tdl_matrix: { T4: [1, 2, 3] } } }, "metadata.tdl_matrix.T4"],
    ["a slot T13", { username: "x4", metadata: { tdl_matrix: { T13: Array(10).fill(0) } } }, "metadata.tdl_matrix.T13"],
    ["capabilities of 4 flags", { username: "x5", metadata: { capabilities: [1, 1, 1, 1] } }, "metadata.capabilities"],
    ["a capability of 2", { username: "x6", metadata: { capabilities: [1, 2, 1, 1, 1] } }, "metadata.capabilities.1"],
    ["an unknown metadata field", { username: "x7", metadata: { max_tokens: 5 } }, "metadata.max_tokens"],
    ["a fractional token limit", { username: "x8", metadata: { max_input_tokens: 1.5 } }, "metadata.max_input_tokens"],
    ["a kong_id that is not a uuid", { username: "x9", kong_id: "abc" }, "kong_id"],
  ];
  for (const [name, body, field] of invalid) {
    it(`rejects ${name} with 400 naming ${field}, and creates nothing`, async () => {
      const before = await stack.db.consumer.count();
      const res = await admin(stack, "POST", "/v1/consumers", body);
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().error.field, field);
      assert.ok(res.json().error.message.startsWith(field), res.json().error.message);
      assert.equal(await stack.db.consumer.count(), before);
    });
  }

  it("a rejected update changes nothing (no half-applied metadata or rate)", async () => {
    await admin(stack, "POST", "/v1/consumers", {
      username: "whole",
      metadata: { provider_name: "kt", input_cost_per_token: "0.1", output_cost_per_token: "0.3" },
    });
    const res = await admin(stack, "PATCH", "/v1/consumers/whole", {
      metadata: { provider_name: "other", input_cost_per_token: "0.2", tdl_matrix: { T1: [1] } },
    });
    assert.equal(res.statusCode, 400);
    const got = (await admin(stack, "GET", "/v1/consumers/whole")).json();
    assert.equal(got.metadata.provider_name, "kt");
    assert.equal((await admin(stack, "GET", "/v1/consumers/whole/rates")).json().rates.length, 1);
  });

  it("a taken username is 409 naming the field", async () => {
    await admin(stack, "POST", "/v1/consumers", { username: "taken" });
    const res = await admin(stack, "POST", "/v1/consumers", { username: "taken" });
    assert.equal(res.statusCode, 409);
    assert.equal(res.json().error.field, "username");
  });

  it("a price per token type in the metadata is refused with where it goes instead, and nothing is created", async () => {
    const res = await admin(stack, "POST", "/v1/consumers", {
      username: "typed-prices",
      metadata: { input_cost_per_token: "0.1", cached_input_cost_per_token: "0.05" },
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.field, "metadata.cached_input_cost_per_token");
    assert.match(
      res.json().error.message,
      /^metadata\.cached_input_cost_per_token: .*POST \/v1\/consumers\/:consumer\/rates/,
    );
    assert.equal(await stack.db.consumer.count({ where: { username: "typed-prices" } }), 0);
  });

  it("an unknown consumer is 404 as JSON", async () => {
    const res = await admin(stack, "GET", "/v1/consumers/nobody");
    assert.equal(res.statusCode, 404);
    assert.match(res.json().error.message, /consumer nobody not found/);
  });

  it("usage queries name their bad parameter", async () => {
    await admin(stack, "POST", "/v1/consumers", { username: "q" });
    const a = await admin(stack, "GET", "/v1/consumers/q/usage?group_by=week");
    assert.equal(a.statusCode, 400);
    assert.equal(a.json().error.field, "query.group_by");
    const b = await admin(stack, "GET", "/v1/consumers/q/usage?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z");
    assert.equal(b.json().error.field, "query.from");
    const c = await admin(stack, "GET", "/v1/consumers/q/tdl-matrix?date=24-11-2026");
    assert.equal(c.json().error.field, "query.date");
    // a range's cost grows with the events in it: at most USAGE_MAX_SPAN_DAYS (400) at once
    for (const url of [
      "/v1/consumers/q/usage?from=1970-01-01T00:00:00Z&to=9999-12-31T00:00:00Z",
      "/v1/consumers/q/usage?from=2025-01-01T00:00:00Z&to=2026-02-06T00:00:01Z",
      "/v1/usage/unattributed?from=2000-01-01T00:00:00Z",
      "/v1/reports/drift?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",
    ]) {
      const long = await admin(stack, "GET", url);
      assert.equal(long.statusCode, 400, url);
      assert.equal(long.json().error.field, "query.from");
      assert.match(long.json().error.message, /at most 400 days/);
    }
    assert.equal(
      (await admin(stack, "GET", "/v1/consumers/q/usage?from=2025-01-01T00:00:00Z&to=2026-02-05T00:00:00Z")).statusCode,
      200,
      "400 days exactly",
    );
  });

  it("a consumer created on a plan answers with it; an unknown book or markup creates nothing", async () => {
    const book = `plan-${randomUUID().slice(0, 8)}`;
    assert.equal((await admin(stack, "POST", "/v1/price-books", { name: book })).statusCode, 201);
    const name = `on-plan-${randomUUID().slice(0, 8)}`;
    const created = await admin(stack, "POST", "/v1/consumers", {
      username: name,
      plan: { price_book: book, markup_percent: "7.5" },
    });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.json().plan.price_book.name, book);
    assert.equal(created.json().plan.markup_percent, "7.5");
    const shown = (await admin(stack, "GET", `/v1/consumers/${name}`)).json();
    assert.deepEqual(shown.plan, created.json().plan);
    for (const [plan, field] of [
      [{ price_book: "no-such-book" }, null],
      [{ price_book: book, markup_percent: "-100" }, "plan.markup_percent"],
      [{ price_book: book, markup_percent: "abc" }, "plan.markup_percent"],
      [{}, "plan.price_book"],
    ] as const) {
      const other = `refused-${randomUUID().slice(0, 8)}`;
      const res = await admin(stack, "POST", "/v1/consumers", { username: other, plan });
      assert.ok(res.statusCode === 400 || res.statusCode === 404, `${JSON.stringify(plan)}: ${res.statusCode}`);
      if (field) assert.equal(res.json().error.field, field);
      assert.equal(await stack.db.consumer.count({ where: { username: other } }), 0, "nothing half-created");
    }
  });

  it("search finds consumers by part of a username, custom id or Kong id, in any case, page by page", async () => {
    const tag = randomUUID().slice(0, 8);
    const kongId = randomUUID();
    for (const body of [
      { username: `Find-Me-${tag}-1` },
      { username: `find-me-${tag}-2` },
      { custom_id: `FIND-ME-${tag}-3` },
      { username: `other-${tag}`, kong_id: kongId },
    ])
      assert.equal((await admin(stack, "POST", "/v1/consumers", body)).statusCode, 201);
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page: {
        consumers: Array<{ username: string | null; custom_id: string | null }>;
        next_after: string | null;
      } = (await admin(stack, "GET", `/v1/consumers?q=find-me-${tag}&limit=2${after ? `&after=${after}` : ""}`)).json();
      seen.push(...page.consumers.map((c) => c.username ?? c.custom_id!));
      after = page.next_after;
    } while (after);
    assert.deepEqual(seen.sort(), [`FIND-ME-${tag}-3`, `Find-Me-${tag}-1`, `find-me-${tag}-2`].sort());
    const byKong = (await admin(stack, "GET", `/v1/consumers?q=${kongId.slice(4, 20)}`)).json().consumers;
    assert.deepEqual(
      byKong.map((c: { username: string }) => c.username),
      [`other-${tag}`],
    );
    assert.equal((await admin(stack, "GET", "/v1/consumers?q=")).statusCode, 400, "an empty search is refused");
  });

  it("every admin route refuses a missing or wrong admin key", async () => {
    for (const [method, url] of [
      ["GET", "/v1/consumers"],
      ["POST", "/v1/consumers"],
      ["GET", "/v1/consumers/q/usage"],
      ["GET", "/v1/usage/unattributed"],
    ] as const) {
      for (const authorization of [undefined, "Bearer wrong", "Bearer test-ingest-secret"]) {
        const res = await stack.app.inject({ method, url, headers: authorization ? { authorization } : {} });
        assert.equal(res.statusCode, 401, `${method} ${url} with ${authorization}`);
      }
    }
  });
});
