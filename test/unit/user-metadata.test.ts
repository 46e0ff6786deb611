import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { userHeaders } from "../../src/authorize/user-headers.ts";
import { readKongConfig } from "../../src/consumers/kong-config.ts";
import { diffSnapshots, type MetadataSnapshot } from "../../src/consumers/metadata.ts";
import { capabilityGranted, capabilityOf, cellLimit, limitFlagsOf } from "../../src/domain/limits.ts";
import { Decimal } from "../../src/domain/money.ts";
import { emptyMatrix } from "../../src/domain/tdl.ts";

const SEED = readFileSync(new URL("../fixtures/seed-kong.yaml", import.meta.url), "utf8");

describe("Kong declarative config reading", () => {
  it("reads the seed's two consumers with their metadata and prices as written", () => {
    const { formatVersion, candidates } = readKongConfig(SEED);
    assert.equal(formatVersion, "3.0");
    assert.deepEqual(
      candidates.map((c) => [c.identity.username, c.identity.custom_id, c.problems.length, c.credentials]),
      [
        ["llama2-client", "client-001", 0, 1],
        ["premium-client", "client-002", 0, 1],
      ],
    );
    const m = candidates[0]!.body.metadata!;
    assert.equal(m.input_cost_per_token?.toFixed(), "0.000000083", "the source digits, not a float");
    assert.equal(m.output_cost_per_token?.toFixed(), "0.00000033");
    assert.deepEqual(m.tags, ["뭘봐임마"]);
  });

  it("keeps every digit of a price a float cannot hold", () => {
    const text = SEED.replace("input_cost_per_token: 0.000000083", "input_cost_per_token: 123456789012.000000000083");
    assert.equal(
      readKongConfig(text).candidates[0]!.body.metadata!.input_cost_per_token?.toFixed(),
      "123456789012.000000000083",
    );
  });

  it("takes a top-level plugin scoped by `consumer:` and rejects a second one for the same consumer", () => {
    const text = `_format_version: "3.0"
consumers:
  - username: a
  - username: b
    plugins:
      - name: user-metadata
        config: {id: b, provider_name: p, tdl_matrix: {}, capabilities: [1,1,1,1,1], max_input_tokens: 1, max_output_tokens: 1, input_cost_per_token: 0, output_cost_per_token: 0}
plugins:
  - name: user-metadata
    consumer: a
    config: {id: a, provider_name: p, tdl_matrix: {}, capabilities: [1,1,1,1,1], max_input_tokens: 1, max_output_tokens: 1, input_cost_per_token: 0, output_cost_per_token: 0}
  - name: user-metadata
    consumer: b
    config: {}
`;
    const [a, b] = readKongConfig(text).candidates;
    assert.equal(a!.body.metadata?.id, "a");
    assert.deepEqual(
      b!.problems.map((p) => p.field),
      ["plugins.1"],
    );
  });

  it("reports duplicate identities in one file on every consumer that has them", () => {
    const text = `_format_version: "3.0"\nconsumers:\n  - username: x\n  - username: x\n    custom_id: y\n`;
    assert.deepEqual(
      readKongConfig(text).candidates.map((c) => c.problems.map((p) => p.field)),
      [["consumers.0.username"], ["consumers.1.username"]],
    );
  });

  it("ignores the plugin's connection settings, so a config written for the new plugin imports too", () => {
    const text = SEED.replace(
      'id: "kt-llama3-1"',
      'id: "kt-llama3-1"\n          tokenmeter_url: http://tokenmeter:8080\n          fail_open: false',
    );
    assert.deepEqual(readKongConfig(text).candidates[0]!.problems, []);
  });

  it("the Kong config docker-compose gives Kong imports cleanly, and the plugin file it mounts exists", () => {
    const compose = parse(readFileSync(new URL("../../docker-compose.yml", import.meta.url), "utf8")) as {
      configs: { kong_config: { content: string } };
      services: { kong: { volumes: string[]; environment: Record<string, string> } };
    };
    const { candidates } = readKongConfig(compose.configs.kong_config.content);
    assert.deepEqual(
      candidates.map((c) => [c.identity.username, c.problems]),
      [
        ["llama2-client", []],
        ["premium-client", []],
      ],
    );
    const mount = compose.services.kong.volumes[0]!.split(":")[0]!;
    assert.ok(existsSync(new URL(`../../${mount}`, import.meta.url)), mount);
    assert.match(compose.services.kong.environment.KONG_PLUGINS!, /user-metadata/);
  });
});

describe("X-User-* header values", () => {
  it("are compact JSON, plain integers and plain decimals, and leave out what the metadata lacks", () => {
    const h = userHeaders(
      {
        externalId: "kt-llama3-1",
        providerName: null,
        tags: ["뭘봐임마"],
        capabilities: [1, 1, 0, 0, 0],
        maxInputTokens: 24000,
        maxOutputTokens: null,
        inputCostPerToken: new Decimal("8.3e-8"),
        outputCostPerToken: new Decimal("0.000000330000"),
      },
      { ...emptyMatrix(), T10: [0, 0, 0, 0, 0, 2, 0, 0, 0, 0] },
    );
    assert.deepEqual(Object.keys(h), [
      "X-User-TDL-Matrix",
      "X-User-Capabilities",
      "X-Consumer-ID",
      "X-User-Max-Input-Tokens",
      "X-User-Input-Cost",
      "X-User-Output-Cost",
      "X-User-Tags",
    ]);
    assert.equal(h["X-User-Input-Cost"], "0.000000083");
    assert.equal(h["X-User-Output-Cost"], "0.00000033");
    assert.equal(h["X-User-Tags"], '["뭘봐임마"]');
    assert.ok(h["X-User-TDL-Matrix"]!.includes('"T9":[0,0,0,0,0,0,0,0,0,0],"T10":[0,0,0,0,0,2,0,0,0,0]'));
  });
});

describe("limits", () => {
  const limits = {
    capabilities: [1, 1, 0, 0, 0],
    maxInputTokens: 100,
    maxOutputTokens: 50,
    tdlMatrix: { ...emptyMatrix(), T5: [0, 0, 0, 0, 0, 3, 0, 0, 0, 0] },
  };

  it("maps a route or model to a capability, first match wins; an unmapped call is unrestricted", () => {
    const map = new Map([
      ["image-route", 2],
      ["gpt-4o", 1],
    ]);
    assert.equal(capabilityOf(["image-route", "id-1", "gpt-4o"], map), 2);
    assert.equal(capabilityOf([undefined, null, "gpt-4o"], map), 1);
    assert.equal(capabilityOf(["chat"], map), undefined);
    assert.equal(
      capabilityOf(["__proto__", "constructor", "toString"], map),
      undefined,
      "names from logs are only names",
    );
    assert.equal(capabilityGranted(limits, undefined), true);
    assert.equal(capabilityGranted(limits, 2), false);
    assert.equal(capabilityGranted(limits, 7), false, "an index beyond the flags is not granted");
  });

  it("reads a cell's limit (0 = none) and flags what a metered call broke", () => {
    assert.equal(cellLimit(limits.tdlMatrix, 4, 5), 3);
    assert.equal(cellLimit(limits.tdlMatrix, 4, 0), 0);
    assert.deepEqual(
      limitFlagsOf(limits, { capability: 2, reachedUpstream: true, inputTokens: 101, outputTokens: 50 }),
      ["capability_not_granted", "input_tokens_over_limit"],
    );
    assert.deepEqual(
      limitFlagsOf(limits, { capability: 2, reachedUpstream: false, inputTokens: 100, outputTokens: 51 }),
      ["output_tokens_over_limit"],
    );
  });
});

describe("metadata versions", () => {
  const snap = (over: Partial<MetadataSnapshot> = {}): MetadataSnapshot => ({
    id: "a",
    provider_name: "kt",
    tags: ["x"],
    tdl_matrix: { T1: [1] },
    capabilities: [1, 1, 1, 1, 1],
    max_input_tokens: 1,
    max_output_tokens: 2,
    input_cost_per_token: "0.1",
    output_cost_per_token: "0.2",
    configured: true,
    ...over,
  });
  it("diffs field by field, ignoring key order inside values", () => {
    assert.deepEqual(diffSnapshots(snap(), snap({ tdl_matrix: { T1: [1] } })), {});
    assert.deepEqual(diffSnapshots(snap(), snap({ max_output_tokens: 3, tags: [] })), {
      tags: { from: ["x"], to: [] },
      max_output_tokens: { from: 2, to: 3 },
    });
    assert.equal(Object.keys(diffSnapshots(null, snap())).length, 10, "a creation lists every field");
  });
});
