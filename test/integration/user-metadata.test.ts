// Importing the seed's Kong config (API and CLI), the original plugin's metadata endpoints, and
// the versions that record every metadata change; against the real PostgreSQL and Redis.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { parse } from "yaml";
import { ADMIN_KEY, INGEST_SECRET, admin, startStack, type Stack } from "../helpers/stack.ts";

const SEED_PATH = new URL("../fixtures/seed-kong.yaml", import.meta.url);
const SEED = readFileSync(SEED_PATH, "utf8");
type SeedConsumer = { username: string; custom_id: string; plugins: Array<{ config: Record<string, unknown> }> };
const seedConsumers = (parse(SEED) as { consumers: SeedConsumer[] }).consumers;

function importConfig(stack: Stack, text: string, query = "", headers: Record<string, string> = {}) {
  return stack.app.inject({
    method: "POST",
    url: `/v1/imports/kong-config${query}`,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/yaml", ...headers },
    payload: text,
  });
}

function userMetadata(stack: Stack, headers: Record<string, string>, path = "/api/user-metadata") {
  return stack.app.inject({ method: "GET", url: path, headers });
}
const fromKong = (consumer: Record<string, string>) => ({ authorization: `Bearer ${INGEST_SECRET}`, ...consumer });

describe("user metadata: import, seed endpoints, versions", () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({}, { meter: false });
  });
  after(async () => stack.close());

  it("imports the seed's kong.yaml as-is, and a second import changes nothing", async () => {
    const first = await importConfig(stack, SEED);
    assert.equal(first.statusCode, 200, first.body);
    const report = first.json();
    assert.deepEqual(report.summary, { created: 2, updated: 0, unchanged: 0, rejected: 0 });
    assert.deepEqual(
      report.created.map((c: { username: string }) => c.username),
      ["llama2-client", "premium-client"],
    );
    assert.match(report.notes.join(" "), /2 keyauth_credentials left to Kong/);

    const second = (await importConfig(stack, SEED)).json();
    assert.deepEqual(second.summary, { created: 0, updated: 0, unchanged: 2, rejected: 0 });
    const versions = (await admin(stack, "GET", "/v1/consumers/llama2-client/metadata/versions")).json();
    assert.equal(versions.versions.length, 1, "an unchanged import records no version");
  });

  it("answers /api/user-metadata with exactly the seed's values for the consumer Kong names", async () => {
    for (const [seed, consumerHeader] of [
      [seedConsumers[0]!, { "x-consumer-username": "llama2-client" }],
      [seedConsumers[1]!, { "x-consumer-custom-id": "client-002" }],
    ] as const) {
      const res = await userMetadata(stack, fromKong(consumerHeader));
      assert.equal(res.statusCode, 200, res.body);
      const c = seed.plugins[0]!.config;
      assert.deepEqual(JSON.parse(res.body), {
        id: c.id,
        provider: c.provider_name,
        tags: c.tags,
        tdl_matrix: c.tdl_matrix,
        capabilities: c.capabilities,
        max_input_tokens: c.max_input_tokens,
        max_output_tokens: c.max_output_tokens,
        input_cost_per_token: c.input_cost_per_token,
        output_cost_per_token: c.output_cost_per_token,
      });
    }
    // prices are written as the exact decimals of the file, never as a float's spelling
    const body = (await userMetadata(stack, fromKong({ "x-consumer-username": "llama2-client" }))).body;
    assert.ok(body.endsWith(`"input_cost_per_token":0.000000083,"output_cost_per_token":0.00000033}`), body);
  });

  it("answers /api/tdl-matrix with the configured limits beside the observed matrix of a day", async () => {
    const res = await userMetadata(
      stack,
      fromKong({ "x-consumer-username": "llama2-client" }),
      "/api/tdl-matrix?date=2026-11-20",
    );
    assert.equal(res.statusCode, 200, res.body);
    const m = res.json();
    assert.equal(m.id, "kt-llama3-1");
    assert.equal(m.date, "2026-11-20");
    assert.deepEqual(m.tdl_matrix, seedConsumers[0]!.plugins[0]!.config.tdl_matrix);
    assert.deepEqual(Object.keys(m.observed_tdl_matrix), [
      "T1",
      "T2",
      "T3",
      "T4",
      "T5",
      "T6",
      "T7",
      "T8",
      "T9",
      "T10",
      "T11",
      "T12",
    ]);
    const bad = await userMetadata(
      stack,
      fromKong({ "x-consumer-username": "llama2-client" }),
      "/api/tdl-matrix?date=2026-02-30",
    );
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.field, "query.date");
  });

  it("believes X-Consumer-* only from Kong, and a consumer key only ever reads its own metadata", async () => {
    const forged = await userMetadata(stack, { "x-consumer-username": "premium-client" });
    assert.equal(forged.statusCode, 401);
    const wrongSecret = await userMetadata(stack, {
      authorization: "Bearer not-the-secret",
      "x-consumer-username": "premium-client",
    });
    assert.equal(wrongSecret.statusCode, 401);
    const noConsumer = await userMetadata(stack, fromKong({}));
    assert.equal(noConsumer.statusCode, 400);
    const unknown = await userMetadata(stack, fromKong({ "x-consumer-username": "nobody" }));
    assert.equal(unknown.statusCode, 404);

    const key = (await admin(stack, "POST", "/v1/consumers/llama2-client/api-keys")).json().key as string;
    const own = await userMetadata(stack, { authorization: `Bearer ${key}`, "x-consumer-username": "premium-client" });
    assert.equal(own.statusCode, 200);
    assert.equal(own.json().id, "kt-llama3-1", "the key's consumer, whatever the headers say");
    const other = await stack.app.inject({
      method: "GET",
      url: "/v1/consumers/premium-client",
      headers: { authorization: `Bearer ${key}` },
    });
    assert.equal(other.statusCode, 403);
  });

  it("versions every metadata change with who, when and what, and reports an import's changes", async () => {
    const patch = await stack.app.inject({
      method: "PATCH",
      url: "/v1/consumers/llama2-client",
      headers: {
        authorization: `Bearer ${ADMIN_KEY}`,
        "content-type": "application/json",
        "x-actor": "alice@operator",
      },
      payload: JSON.stringify({ metadata: { max_output_tokens: 9000, output_cost_per_token: "0.0000004" } }),
    });
    assert.equal(patch.statusCode, 200, patch.body);
    assert.equal(patch.json().metadata_version, 2);

    const reimport = (await importConfig(stack, SEED, "", { "x-actor": "bob" })).json();
    assert.deepEqual(reimport.summary, { created: 0, updated: 1, unchanged: 1, rejected: 0 });
    assert.deepEqual(reimport.updated[0].changed.sort(), ["max_output_tokens", "output_cost_per_token"]);
    assert.equal(reimport.updated[0].metadata_version, 3);

    const { versions } = (await admin(stack, "GET", "/v1/consumers/llama2-client/metadata/versions")).json();
    assert.deepEqual(
      versions.map((v: { version: number; actor: string; source: string }) => [v.version, v.actor, v.source]),
      [
        [1, "admin", "import"],
        [2, "alice@operator", "api"],
        [3, "bob", "import"],
      ],
    );
    assert.deepEqual(versions[1].changes, {
      max_output_tokens: { from: 8000, to: 9000 },
      output_cost_per_token: { from: "0.00000033", to: "0.0000004" },
    });
    assert.equal(versions[2].snapshot.output_cost_per_token, "0.00000033");
    assert.ok(Date.parse(versions[2].changed_at) >= Date.parse(versions[1].changed_at));
  });

  it("a dry run reports what would change and changes nothing", async () => {
    const changed = SEED.replace("max_input_tokens: 50000", "max_input_tokens: 60000");
    const dry = (await importConfig(stack, changed, "?dry_run=true")).json();
    assert.equal(dry.dry_run, true);
    assert.deepEqual(
      dry.updated.map((u: { username: string; changed: string[] }) => [u.username, u.changed]),
      [["premium-client", ["max_input_tokens"]]],
    );
    const now = (await admin(stack, "GET", "/v1/consumers/premium-client")).json();
    assert.equal(now.metadata.max_input_tokens, 50000);
    assert.equal(now.metadata_version, 1);
  });

  it("rejects a bad consumer with every reason, and still imports the good ones", async () => {
    const text = `_format_version: "3.0"
consumers:
  - username: fine-client
    plugins:
      - name: user-metadata
        config: {id: f1, provider_name: kt, tdl_matrix: {}, capabilities: [1,0,0,0,0], max_input_tokens: 100, max_output_tokens: 50, input_cost_per_token: "0.000001", output_cost_per_token: 0.000002}
  - username: broken-client
    plugins:
      - name: user-metadata
        config: {id: b1, provider_name: kt, tdl_matrix: {T13: [0]}, capabilities: [1,1,1,1,1], max_input_tokens: 100, max_output_tokens: 50, input_cost_per_token: 0.0000000000001, output_cost_per_token: -1}
  - username: renamed-client
    custom_id: client-001
`;
    const report = (await importConfig(stack, text)).json();
    assert.deepEqual(report.summary, { created: 1, updated: 0, unchanged: 0, rejected: 2 });
    assert.deepEqual(
      report.rejected[0].reasons.map((r: { field: string }) => r.field),
      [
        "consumers.1.plugins.0.config.tdl_matrix.T13",
        "consumers.1.plugins.0.config.input_cost_per_token",
        "consumers.1.plugins.0.config.output_cost_per_token",
      ],
    );
    // client-001 is llama2-client's: an import never renames a consumer as a side effect
    assert.deepEqual(
      report.rejected[1].reasons.map((r: { field: string }) => r.field),
      ["consumers.2.username"],
    );
    assert.match(report.rejected[1].reasons[0].message, /custom_id client-001 is username llama2-client/);
    const fine = (await admin(stack, "GET", "/v1/consumers/fine-client")).json();
    assert.equal(fine.metadata.output_cost_per_token, "0.000002");
    assert.equal((await admin(stack, "GET", "/v1/consumers/broken-client")).statusCode, 404);
  });

  it("refuses a file that is not a 3.0 declarative config as a whole, naming the field", async () => {
    const wrong = await importConfig(stack, "_format_version: 3.0\nconsumers: []\n");
    assert.equal(wrong.statusCode, 400);
    assert.equal(wrong.json().error.field, "_format_version");
    const notYaml = await importConfig(stack, "consumers: [\n");
    assert.equal(notYaml.statusCode, 400);
    assert.match(notYaml.json().error.message, /not valid YAML or JSON at line/);
    const asJson = await importConfig(
      stack,
      JSON.stringify({ _format_version: "3.0", consumers: [{ username: "json-client" }] }),
      "",
      {
        "content-type": "application/json",
      },
    );
    assert.deepEqual(asJson.json().summary, { created: 1, updated: 0, unchanged: 0, rejected: 0 });
    const forbidden = await stack.app.inject({
      method: "POST",
      url: "/v1/imports/kong-config",
      headers: { authorization: "Bearer nope" },
      payload: SEED,
    });
    assert.equal(forbidden.statusCode, 401);
  });

  it("imports the seed from the command line, idempotently, exiting 0", async () => {
    const run = promisify(execFile);
    const env = {
      ...process.env,
      DATABASE_URL: stack.config.databaseUrl,
      REDIS_PREFIX: stack.config.redis.prefix,
      LOG_LEVEL: "silent",
    };
    const cli = ["--import", "tsx", "scripts/import-kong.ts", SEED_PATH.pathname, "--actor", "ci"];
    await admin(stack, "PATCH", "/v1/consumers/premium-client", { metadata: { capabilities: [1, 0, 0, 0, 0] } });
    const out = await run(process.execPath, cli, { env });
    assert.match(out.stdout, /updated +premium-client +capabilities +-> metadata v3/);
    assert.match(out.stdout, /0 created, 1 updated, 1 unchanged, 0 rejected/);
    const again = await run(process.execPath, cli, { env });
    assert.match(again.stdout, /0 created, 0 updated, 2 unchanged, 0 rejected/);
    const missing = await run(process.execPath, [...cli.slice(0, 3), "/nonexistent.yaml"], { env }).catch(
      (e: { code: number }) => e,
    );
    assert.notEqual((missing as { code: number }).code, 0);
  });
});
