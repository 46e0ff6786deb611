// The user-metadata Kong plugin, loaded by kong-pdk's own module loader as the plugin server loads
// it, run against a recorded Kong (test/helpers/recorded-kong.ts), and calling a real tokenmeter
// over HTTP with the real PostgreSQL and Redis behind it. The clock is fixed in slot T5 (UTC).
import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { INGEST_SECRET, importSeed, startStack, type Stack } from "../helpers/stack.ts";
import { kongPdkMethods, recordedKong, type ProxiedRequest } from "../helpers/recorded-kong.ts";

const require = createRequire(import.meta.url);
const NOW = new Date("2026-11-24T09:30:00Z");
const LLAMA = { id: "5b0a4ad4-5e3c-4b49-9d1c-6a2d2f0f9c11", username: "llama2-client", custom_id: "client-001" };
const CHAT_ROUTE = { id: "e6f7c1f2-0f7e-4c53-bf0e-5a4b7f0e2d10", name: "llama2-chat" };
const chatBody = (tokens: number) =>
  JSON.stringify({ messages: [{ role: "user", content: "hello".concat(" hello".repeat(tokens - 1)) }] });

type PluginModule = {
  getName(): string;
  getPhases(): string[];
  getPriority(): number;
  getSchema(): Array<Record<string, unknown>>;
  "new"(config: object): { executePhase(phase: string, kong: unknown): Promise<void> };
};

/** Loads the plugin file exactly as kong-js-pluginserver does: alone in a directory, through ts-node, as CommonJS. */
function loadAsPluginServer(): PluginModule {
  const dir = mkdtempSync(join(tmpdir(), "js-plugins-"));
  const file = join(dir, "user-metadata.ts");
  copyFileSync(new URL("../../src/kong-plugin/user-metadata.ts", import.meta.url), file);
  process.env.TS_NODE_TRANSPILE_ONLY = "true";
  process.env.TS_NODE_SKIP_PROJECT = "true";
  // in Kong's image ts-node finds kong-pdk's own TypeScript 4 and compiles to CommonJS by default;
  // here it finds the repo's TypeScript 5, which needs the CommonJS settings spelled out
  process.env.TS_NODE_COMPILER_OPTIONS = '{"module":"commonjs","moduleResolution":"node","target":"es2020"}';
  const { Module } = require("kong-pdk/lib/mod.js") as { Module: new (name: string, path: string) => PluginModule };
  return new Module("user-metadata", file);
}

describe("user-metadata Kong plugin", () => {
  let stack: Stack;
  let url: string;
  let plugin: PluginModule;

  const run = async (req: Partial<ProxiedRequest>, config: object = {}) => {
    const { kong, recording } = recordedKong({
      path: "/llama2/chat",
      consumer: LLAMA,
      route: CHAT_ROUTE,
      body: chatBody(10),
      ...req,
    });
    await plugin
      .new({ tokenmeter_url: url, gateway_secret: INGEST_SECRET, timeout_ms: 2000, fail_open: true, ...config })
      .executePhase("access", kong);
    return recording;
  };

  before(async () => {
    stack = await startStack(
      { BILLING_TIMEZONE: "UTC", CAPABILITY_MAP: '{"image-route":"2"}' },
      { meter: false, clock: () => NOW },
    );
    url = await stack.app.listen({ port: 0, host: "127.0.0.1" });
    await importSeed(stack);
    plugin = loadAsPluginServer();
  });
  after(async () => stack.close());

  it("loads as the plugin server loads it: name, access phase, priority, and a schema the seed's config fits", () => {
    assert.equal(plugin.getName(), "user-metadata");
    assert.deepEqual(plugin.getPhases(), ["access"]);
    assert.equal(plugin.getPriority(), 900);
    const fields = plugin.getSchema().map((f) => Object.keys(f)[0]);
    const seedFields = [
      "id",
      "provider_name",
      "tags",
      "tdl_matrix",
      "capabilities",
      "max_input_tokens",
      "max_output_tokens",
      "input_cost_per_token",
      "output_cost_per_token",
    ];
    for (const f of ["tokenmeter_url", "gateway_secret", "timeout_ms", "fail_open", ...seedFields])
      assert.ok(fields.includes(f), f);
  });

  it("sets the X-User-* headers upstream for an allowed call", async () => {
    const r = await run({});
    assert.equal(r.exit, undefined);
    assert.equal(r.upstreamHeaders["X-Consumer-ID"], "kt-llama3-1");
    assert.equal(r.upstreamHeaders["X-User-Capabilities"], "[1,1,0,0,0]");
    assert.equal(r.upstreamHeaders["X-User-Input-Cost"], "0.000000083");
    assert.equal(r.upstreamHeaders["X-User-Tags"], '["뭘봐임마"]');
    assert.match(
      r.upstreamHeaders["X-User-TDL-Matrix"]!,
      /^\{"T1":\[0,0,0,0,0,0,0,0,0,0\],.*"T5":\[1,0,0,0,0,0,0,0,0,0\],.*"T12":\[0,0,0,0,0,0,0,0,0,0\]\}$/,
    );
  });

  it("rejects with 403 and a JSON reason for a capability or token limit", async () => {
    const cap = await run({ route: { id: CHAT_ROUTE.id, name: "image-route" } });
    assert.equal(cap.exit?.status, 403);
    assert.deepEqual(JSON.parse(cap.exit!.body!), {
      message: "capability 2 is not granted to this consumer",
      reason: "capability_not_granted",
      capability: 2,
    });
    assert.equal(cap.exit?.headers?.["Content-Type"], "application/json; charset=utf-8");
    assert.deepEqual(cap.upstreamHeaders, {});

    const tokens = await run({ body: chatBody(24_500) });
    assert.equal(tokens.exit?.status, 403);
    assert.equal(JSON.parse(tokens.exit!.body!).reason, "input_tokens_over_limit");
  });

  it("rejects with 429 once the slot's TDL limit is used up", async () => {
    const statuses: Array<number | undefined> = [];
    for (let i = 0; i < 4; i++) statuses.push((await run({ body: chatBody(5000) })).exit?.status);
    assert.deepEqual(statuses, [undefined, undefined, undefined, 429]);
    const last = await run({ body: chatBody(5000) });
    assert.deepEqual(JSON.parse(last.exit!.body!), {
      message: "T5 level 5 allows 3 calls a day and 3 were made",
      reason: "tdl_limit_reached",
      slot: "T5",
      level: 5,
      limit: 3,
      actual: 3,
    });
  });

  it("answers /api/user-metadata and /api/tdl-matrix itself, for the consumer Kong authenticated", async () => {
    const meta = await run({ path: "/api/user-metadata", body: null });
    assert.equal(meta.exit?.status, 200);
    assert.equal(JSON.parse(meta.exit!.body!).id, "kt-llama3-1");
    assert.ok(meta.exit!.body!.includes('"input_cost_per_token":0.000000083'));
    const matrix = await run({ path: "/api/tdl-matrix", query: "date=2026-11-24", body: null });
    assert.equal(matrix.exit?.status, 200);
    assert.equal(JSON.parse(matrix.exit!.body!).date, "2026-11-24");
    const anonymous = await run({ path: "/api/user-metadata", consumer: null });
    assert.equal(anonymous.exit?.status, 401);
  });

  it("passes an unauthenticated call through without asking tokenmeter", async () => {
    const r = await run({ consumer: null });
    assert.deepEqual([r.exit, r.upstreamHeaders], [undefined, {}]);
    assert.deepEqual(
      r.calls.map((c) => c.method),
      ["kong.client.get_consumer", "kong.request.get_path"],
    );
  });

  it("fails open or closed by config when tokenmeter does not answer in time", async () => {
    const silent: Server = createServer(() => {}); // accepts connections and never answers
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const silentUrl = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    try {
      const started = Date.now();
      const open = await run({}, { tokenmeter_url: silentUrl, timeout_ms: 150, fail_open: true });
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 140 && elapsed < 1500, `timed out after ${elapsed} ms`);
      assert.deepEqual([open.exit, open.upstreamHeaders], [undefined, {}]);
      assert.match(open.logs[0]!.message, /letting the call through/);

      const closed = await run({}, { tokenmeter_url: silentUrl, timeout_ms: 150, fail_open: false });
      assert.equal(closed.exit?.status, 503);
      assert.equal(JSON.parse(closed.exit!.body!).reason, "authorize_unavailable");

      const wrongSecret = await run({}, { gateway_secret: "not-the-secret", fail_open: false });
      assert.equal(wrongSecret.exit?.status, 503, "a 401 from tokenmeter is a failure, never an allow");
    } finally {
      silent.close();
    }
  });

  it("calls only methods that Kong's PDK has", async () => {
    const known = kongPdkMethods();
    const r = await run({});
    const cap = await run({ route: { id: CHAT_ROUTE.id, name: "image-route" } });
    const used = new Set([...r.calls, ...cap.calls].map((c) => c.method));
    assert.ok(used.size >= 6);
    for (const m of used) assert.ok(known.has(m), `${m} is not in Kong's PDK`);
  });

  it("names the call's budget hold in Kong's log entry, so the metered log settles it", async () => {
    const id = (await stack.db.consumer.findUniqueOrThrow({ where: { username: LLAMA.username } })).id;
    const put = await stack.app.inject({
      method: "PUT",
      url: `/v1/consumers/${id}/budget`,
      headers: { authorization: "Bearer test-admin-key" },
      payload: { period: "monthly", amount: "100" },
    });
    assert.equal(put.statusCode, 200, put.body);
    const r = await run({});
    assert.equal(r.exit, undefined, "allowed");
    const holdId = r.serialized["tokenmeter.hold_id"];
    assert.match(String(holdId), /^hold-[0-9a-f-]{36}$/);
    const period = `${new Date(NOW).toISOString().slice(0, 7)}-01`;
    const entry = await stack.redis.hget(
      `${stack.config.redis.prefix}:budget:{${id}:${period}}:entries`,
      String(holdId),
    );
    assert.match(String(entry), /\|h$/, "the ledger holds the call under that id");
  });

  it("caps the upstream request's output at what the budget holds, and keeps the hold past the service's timeouts", async () => {
    const id = (await stack.db.consumer.findUniqueOrThrow({ where: { username: LLAMA.username } })).id;
    const setBudget = (period: string, amount: string, cap_output?: string) =>
      stack.app.inject({
        method: "PUT",
        url: `/v1/consumers/${id}/budget`,
        headers: { authorization: "Bearer test-admin-key" },
        payload: { period, amount, ...(cap_output ? { cap_output } : {}) },
      });
    assert.equal((await setBudget("monthly", "100")).statusCode, 200);

    // no max-tokens field: the upstream gets the consumer's max_output_tokens, which was held
    const open = await run({ timeouts: { connect_timeout: 5000, write_timeout: 60_000, read_timeout: 3_600_000 } });
    assert.equal(open.exit, undefined);
    assert.equal(JSON.parse(open.upstreamBody!).max_tokens, 8000);
    assert.deepEqual(
      JSON.parse(open.upstreamBody!).messages,
      JSON.parse(chatBody(10)).messages,
      "the rest of the body as sent",
    );
    const holds = `${stack.config.redis.prefix}:budget:{${id}:2026-11-01}:holds`;
    const expiresAt = Number(await stack.redis.zscore(holds, String(open.serialized["tokenmeter.hold_id"])));
    const [seconds, micros] = await stack.redis.time();
    const ttl = expiresAt - (Number(seconds) * 1000 + Math.floor(Number(micros) / 1000));
    assert.ok(
      ttl > 3_665_000 - 5000 && ttl <= 3_725_000,
      `the hold lives the service's timeouts and a margin: ${ttl} ms`,
    );

    // a budget that cannot pay for 7000 output tokens is held, and the call capped, at what it can
    // (a day's budget: a ledger of its own, with nothing held yet)
    assert.equal((await setBudget("daily", "0.001")).statusCode, 200);
    const asked = JSON.stringify({ ...JSON.parse(chatBody(10)), max_completion_tokens: 7000 });
    const shrunk = await run({ body: asked });
    assert.equal(shrunk.exit, undefined);
    const cap = JSON.parse(shrunk.upstreamBody!).max_completion_tokens;
    assert.ok(cap >= 16 && cap < 3031, `capped to ${cap}`);
    assert.equal(JSON.parse(shrunk.upstreamBody!).max_tokens, undefined, "the field the client used, no other");

    // cap_output off: the same call is refused, not rewritten
    assert.equal((await setBudget("weekly", "0.001", "off")).statusCode, 200);
    const refused = await run({ body: asked });
    assert.equal(refused.exit?.status, 429);
    assert.equal(refused.upstreamBody, undefined);
    await stack.app.inject({
      method: "DELETE",
      url: `/v1/consumers/${id}/budget`,
      headers: { authorization: "Bearer test-admin-key" },
    });
  });
});
