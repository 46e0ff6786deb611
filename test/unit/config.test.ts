import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "../../src/config.ts";

describe("configuration", () => {
  it("has defaults that work on a development machine", () => {
    const c = loadConfig({});
    assert.equal(c.databaseUrl, "postgresql://postgres@127.0.0.1:5432/tokenmeter");
    assert.deepEqual(c.kafka.brokers, ["127.0.0.1:9092"]);
    assert.equal(c.billing.timeZone, "UTC");
    assert.deepEqual(c.tdl.levelBounds, [256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536]);
    assert.equal(c.metering.defaultPrices, null, "no default price: consumers without prices are unpriced, not free");
  });

  it("names each invalid variable", () => {
    assert.throws(
      () => loadConfig({ BILLING_TIMEZONE: "Mars/Olympus" }),
      /BILLING_TIMEZONE: must be an IANA time zone/,
    );
    assert.throws(() => loadConfig({ TDL_LEVEL_BOUNDS: "1,2,3" }), /TDL_LEVEL_BOUNDS: must be 9 increasing/);
    assert.throws(
      () => loadConfig({ DEFAULT_INPUT_COST_PER_TOKEN: "0.1234567890123" }),
      /DEFAULT_INPUT_COST_PER_TOKEN/,
    );
    assert.throws(() => loadConfig({ MODEL_BY_ROUTE: "[1]" }), /MODEL_BY_ROUTE: must be a JSON object/);
    assert.throws(() => loadConfig({ CAPABILITY_MAP: '{"r":"7"}' }), /CAPABILITY_MAP.r: must be a capability index/);
    assert.throws(() => loadConfig({ PORT: "http" }), /PORT/);
  });

  it("refuses the development secrets in production", () => {
    assert.throws(() => loadConfig({ NODE_ENV: "production" }), /INGEST_SECRET and ADMIN_API_KEY must be set/);
    const admin = "an-admin-key-of-32-characters-ok";
    assert.doesNotThrow(() =>
      loadConfig({ NODE_ENV: "production", INGEST_SECRET: "a-real-secret", ADMIN_API_KEY: admin }),
    );
    assert.throws(
      () => loadConfig({ NODE_ENV: "production", INGEST_SECRET: "a-real-secret", ADMIN_API_KEY: admin.slice(1) }),
      /ADMIN_API_KEY: must be at least 32 characters/,
    );
    assert.throws(
      () => loadConfig({ NODE_ENV: "production", INGEST_SECRET: admin, ADMIN_API_KEY: admin }),
      /ADMIN_API_KEY: must differ from INGEST_SECRET/,
    );
  });

  it("keeps prices as exact decimals", () => {
    const prices = loadConfig({ DEFAULT_INPUT_COST_PER_TOKEN: "0", DEFAULT_OUTPUT_COST_PER_TOKEN: "0.00000033" })
      .metering.defaultPrices;
    assert.deepEqual([prices?.inputCostPerToken.toFixed(), prices?.outputCostPerToken.toFixed()], ["0", "0.00000033"]);
  });

  it("refuses one default price without the other, naming the missing one", () => {
    assert.throws(
      () => loadConfig({ DEFAULT_OUTPUT_COST_PER_TOKEN: "0.00000033" }),
      /DEFAULT_INPUT_COST_PER_TOKEN: must be set with the other/,
    );
    assert.throws(
      () => loadConfig({ DEFAULT_INPUT_COST_PER_TOKEN: "0.1" }),
      /DEFAULT_OUTPUT_COST_PER_TOKEN: must be set with the other/,
    );
  });

  it("reads body paths and the models billed from the provider's figure", () => {
    const m = loadConfig({
      METER_REQUEST_BODY_PATHS: "llm.in, request.body",
      METER_PROVIDER_BILLED_MODELS: "claude-*,*llama*,gemini-1.5-pro",
    }).metering;
    assert.deepEqual(m.requestBodyPaths, ["llm.in", "request.body"]);
    assert.deepEqual(m.responseBodyPaths, ["response.body", "response_body", "resp_body", "res_body", "body.response"]);
    // the named ones, and every model whose tokenizer tiktoken does not have
    assert.deepEqual(
      ["claude-3-5-sonnet", "Meta-Llama-3-8B", "gemini-1.5-pro", "gemini-1.5-flash", "gpt-4o"].map(m.providerBilled),
      [true, true, true, true, false],
    );
    const byDefault = loadConfig({}).metering.providerBilled;
    assert.deepEqual(
      [
        "gpt-4o",
        "gpt-4o-2024-08-06",
        "openai/gpt-4.1-mini",
        "o3-mini",
        "gpt-3.5-turbo",
        "text-embedding-3-small",
        "claude-3-5-sonnet",
        "gemini-2.0-flash",
        "llama3-70b",
        "mistral-large",
        "qwen2.5-72b",
      ].map(byDefault),
      [false, false, false, false, false, false, true, true, true, true, true],
      "default: OpenAI's models from our count, every other family from the provider's figure",
    );
    const counted = loadConfig({ METER_COUNT_BILLED_MODELS: "gpt-*,llama*" }).metering.providerBilled;
    assert.deepEqual(
      ["gpt-4o", "llama3-70b", "o3-mini", "claude-3"].map(counted),
      [false, false, true, true],
      "METER_COUNT_BILLED_MODELS names the count-billed families instead",
    );
    const both = loadConfig({ METER_PROVIDER_BILLED_MODELS: "gpt-4o-mini*" }).metering.providerBilled;
    assert.deepEqual(
      ["gpt-4o", "gpt-4o-mini"].map(both),
      [false, true],
      "a model named for the provider's figure is billed from it whatever its tokenizer",
    );
    assert.throws(
      () => loadConfig({ METER_REQUEST_BODY_PATHS: "request..body" }),
      /METER_REQUEST_BODY_PATHS: must be dot paths/,
    );
    assert.throws(
      () => loadConfig({ METER_PROVIDER_BILLED_MODELS: "claude-(.*)" }),
      /METER_PROVIDER_BILLED_MODELS: must be model names or patterns/,
    );
  });
});
