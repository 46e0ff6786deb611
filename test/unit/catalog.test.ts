// Price catalogs as files: the shipped list prices and LiteLLM's map become book prices, and an
// entry that cannot be one is reported with its reason instead of imported at zero.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseLiteLlm, parseOwnCatalog, shippedCatalog } from "../../src/catalog/catalog.ts";

describe("price catalogs", () => {
  it("the shipped list prices parse whole, each with both prices of the pair", () => {
    const { prices, rejected } = shippedCatalog();
    assert.deepEqual(rejected, []);
    assert.ok(prices.length >= 30, `${prices.length} models`);
    const gpt4o = prices.find((p) => p.model === "gpt-4o")!;
    assert.deepEqual(
      [
        gpt4o.input_cost_per_token.toFixed(),
        gpt4o.output_cost_per_token.toFixed(),
        gpt4o.cached_input_cost_per_token?.toFixed(),
      ],
      ["0.0000025", "0.00001", "0.00000125"],
    );
    for (const provider of ["gpt-4o-mini", "claude-3-5-sonnet", "gemini-1.5-pro", "mistral-large-latest"])
      assert.ok(
        prices.some((p) => p.model === provider),
        provider,
      );
  });

  it("maps LiteLLM's fields for every token type, exactly, and reports what it cannot import", () => {
    const { prices, rejected } = parseLiteLlm({
      sample_spec: { input_cost_per_token: 0, mode: "one of ..." },
      "claude-3-5-sonnet-20241022": {
        litellm_provider: "anthropic",
        mode: "chat",
        input_cost_per_token: 3e-6,
        output_cost_per_token: 1.5e-5,
        cache_read_input_token_cost: 3e-7,
        cache_creation_input_token_cost: 3.75e-6,
      },
      o1: {
        mode: "chat",
        input_cost_per_token: 1.5e-5,
        output_cost_per_token: 6e-5,
        output_cost_per_reasoning_token: 6e-5,
      },
      "text-embedding-3-small": { mode: "embedding", input_cost_per_token: 2e-8, output_cost_per_token: 0 },
      "half-priced": { mode: "chat", input_cost_per_token: 1e-6 },
      "too-fine": { mode: "chat", input_cost_per_token: 1.23e-13, output_cost_per_token: 1e-6 },
      negative: { mode: "chat", input_cost_per_token: -1e-6, output_cost_per_token: 1e-6 },
      "bad name": { mode: "chat", input_cost_per_token: 1e-6, output_cost_per_token: 1e-6 },
    });
    const claude = prices.find((p) => p.model === "claude-3-5-sonnet-20241022")!;
    assert.deepEqual(
      [
        claude.input_cost_per_token,
        claude.output_cost_per_token,
        claude.cached_input_cost_per_token,
        claude.cache_write_cost_per_token,
      ].map((d) => d?.toFixed()),
      ["0.000003", "0.000015", "0.0000003", "0.00000375"],
    );
    assert.equal(prices.find((p) => p.model === "o1")!.reasoning_cost_per_token?.toFixed(), "0.00006");
    assert.deepEqual(rejected.map((r) => r.model).sort(), [
      "bad name",
      "half-priced",
      "negative",
      "text-embedding-3-small",
      "too-fine",
    ]);
    assert.match(rejected.find((r) => r.model === "half-priced")!.reason, /output_cost_per_token is missing/);
  });

  it("our format refuses a file without models and a model named twice", () => {
    assert.throws(() => parseOwnCatalog({ format: "x" }), /models/);
    const twice = parseOwnCatalog({
      models: [
        { model: "a", input_cost_per_token: "0", output_cost_per_token: "0" },
        { model: "A", input_cost_per_token: "1", output_cost_per_token: "1" },
      ],
    });
    assert.deepEqual([twice.prices.length, twice.rejected[0]?.reason], [1, "named twice in the file"]);
  });
});
