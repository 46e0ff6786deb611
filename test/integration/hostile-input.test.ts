// Odd and hostile values against every field of the consumer, rate, usage, TDL, invoice, billing
// and dead-letter routes: each refusal is a 4xx in the documented error shape naming the field,
// and nothing in the database changed. Values a field legitimately takes are not in its table.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { ADMIN_KEY, admin, INGEST_SECRET, importSeed, SEED_KONG_CONFIG, startStack, type Stack } from "../helpers/stack.ts";

let stack: Stack;
let consumerId: string;
let consumerKey: string;

before(async () => {
  stack = await startStack({}, { meter: false });
  const res = await admin(stack, "POST", "/v1/consumers", { username: "hostile-target", kong_id: randomUUID() });
  consumerId = res.json().id;
  consumerKey = (await admin(stack, "POST", `/v1/consumers/${consumerId}/api-keys`)).json().key;
});
after(() => stack.close());

const LONG = "x".repeat(10_000);
const TEXT = ["\u0000", "a\u0000b", "a\r\nX-Injected: 1", "tab\tinside", LONG];
const PRICE = ["0x10", "0b11", "1e-7", "-1", "+1", " ", "", "Infinity", "NaN", "1.0000000000001", "99999999999999999999999999999999999999", 1e308, 1e40, -0.5, true, [], {}];
const DATE = ["0000-01-01", "0026-10-01", "2026-02-30", "2026-13-01", "10000-01-01", "2026-1-1", "", "\u0000"];
const INSTANT = ["0000-01-01T00:00:00Z", "0026-10-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-01", "yesterday", ""];
const TOKENS = [0, -1, 1.5, 2 ** 31, 1e308, "100", true];

/** Rows an accepted request would add or change. */
async function fingerprint() {
  const [consumers, rates, versions, keys, invoices] = await Promise.all([
    stack.db.consumer.count(),
    stack.db.consumerRate.count(),
    stack.db.consumerMetadataVersion.count(),
    stack.db.consumerApiKey.count(),
    stack.db.invoice.count(),
  ]);
  const target = await stack.db.consumer.findUniqueOrThrow({ where: { id: consumerId } });
  return JSON.stringify({ consumers, rates, versions, keys, invoices, target: { ...target, updatedAt: undefined } });
}

type Case = { label: string; method: "GET" | "POST" | "PATCH"; url: string; body?: string; field: string };

function bodyCases(method: "POST" | "PATCH", url: string, base: Record<string, unknown>, fields: Record<string, unknown[]>, prefix = ""): Case[] {
  return Object.entries(fields).flatMap(([field, values]) =>
    values.map((v) => {
      const path = field.split(".");
      const body = structuredClone(base);
      let node = body as Record<string, unknown>;
      for (const k of path.slice(0, -1)) node = (node[k] ??= {}) as Record<string, unknown>;
      node[path[path.length - 1]!] = v;
      return { label: `${method} ${url} ${field}=${JSON.stringify(v)?.slice(0, 30)}`, method, url, body: JSON.stringify(body), field: prefix + field };
    }),
  );
}

const queryCases = (url: string, fields: Record<string, unknown[]>): Case[] =>
  Object.entries(fields).flatMap(([field, values]) =>
    values.map((v) => ({ label: `GET ${url}?${field}=${JSON.stringify(v).slice(0, 30)}`, method: "GET" as const, url: `${url}${url.includes("?") ? "&" : "?"}${field}=${encodeURIComponent(String(v))}`, field: `query.${field}` })),
  );

function cases(): Case[] {
  const c = `/v1/consumers/${consumerId}`;
  return [
    ...bodyCases("POST", "/v1/consumers", { username: "new-one" }, {
      username: TEXT,
      custom_id: TEXT,
      kong_id: ["not-a-uuid", "\u0000"],
      rates_effective_from: INSTANT,
      "metadata.id": TEXT,
      "metadata.provider_name": TEXT,
      "metadata.tags": [[LONG], ["a\u0000"], ["x\ny"], "not-a-list"],
      "metadata.max_input_tokens": TOKENS,
      "metadata.max_output_tokens": TOKENS,
      "metadata.input_cost_per_token": PRICE,
      "metadata.output_cost_per_token": PRICE,
      "metadata.capabilities": [[1, 1], [2, 0, 0, 0, 0], "11111"],
    }),
    ...bodyCases("PATCH", c, {}, {
      "metadata.id": TEXT,
      "metadata.max_input_tokens": TOKENS,
      "metadata.input_cost_per_token": PRICE,
      rates_effective_from: INSTANT,
    }),
    ...bodyCases("POST", `${c}/rates`, { effective_from: "2030-01-01T00:00:00Z", input_cost_per_token: "0.1", output_cost_per_token: "0.2" }, {
      effective_from: INSTANT,
      input_cost_per_token: PRICE,
      output_cost_per_token: PRICE,
    }),
    ...queryCases(`${c}/usage`, { from: INSTANT.filter(Boolean), to: INSTANT.filter(Boolean), group_by: ["consumer", "\u0000"] }),
    ...queryCases(`${c}/tdl-matrix`, { date: DATE.filter(Boolean) }),
    ...queryCases("/v1/invoices", { period: DATE.filter(Boolean), status: ["paid"], limit: [0, 501, "ten"] }),
    ...queryCases("/v1/billing/report", { period: DATE.filter(Boolean) }),
    ...bodyCases("POST", "/v1/billing/runs", {}, { period: DATE }),
    ...queryCases("/v1/dead-letters", { from: INSTANT.filter(Boolean), stage: ["kafka"], limit: [0, 100000] }),
  ];
}

describe("hostile input", () => {
  it("every odd value is a 4xx naming its field, in the documented shape, and changes nothing", async () => {
    const all = cases();
    const before = await fingerprint();
    const failures: string[] = [];
    for (const k of all) {
      const res = await stack.app.inject({
        method: k.method,
        url: k.url,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(k.body ? { "content-type": "application/json" } : {}) },
        payload: k.body,
      });
      const body = res.json();
      // the field itself, or an element of it (metadata.tags.0)
      const names = body.error?.field === k.field || String(body.error?.field).startsWith(`${k.field}.`);
      const ok = res.statusCode >= 400 && res.statusCode < 500 && typeof body.error?.message === "string" && typeof body.error?.requestId === "string" && names;
      if (!ok) failures.push(`${k.label}: ${res.statusCode} ${res.body.slice(0, 200)}`);
    }
    assert.deepEqual(failures, [], `${failures.length} of ${all.length} cases`);
    assert.equal(await fingerprint(), before, "nothing changed in the database");
    assert.ok(all.length >= 200, `${all.length} cases`);
  });

  it("a JSON number a double cannot carry is refused with a message to send a string, and the same digits as a string are taken exactly", async () => {
    const post = (payload: string) => stack.app.inject({ method: "POST", url: "/v1/consumers", headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" }, payload });
    const rounded = await post('{"username":"digits","metadata":{"input_cost_per_token":123456789012.123456789012}}');
    assert.equal(rounded.statusCode, 400);
    assert.equal(rounded.json().error.field, "metadata.input_cost_per_token");
    assert.match(rounded.json().error.message, /send the price as a string \("123456789012.123456789012"\)/);
    const asString = await post('{"username":"digits","metadata":{"input_cost_per_token":"123456789012.123456789012"}}');
    assert.equal(asString.statusCode, 201, asString.body);
    assert.equal(asString.json().metadata.input_cost_per_token, "123456789012.123456789012");
    const plain = await post('{"username":"digits-2","metadata":{"input_cost_per_token":0.000000083}}');
    assert.equal(plain.json().metadata.input_cost_per_token, "0.000000083");
  });

  it("control characters in a path segment or a query parameter are a 400 naming where", async () => {
    for (const [url, field] of [["/v1/consumers/a%00b", "path"], ["/v1/consumers/a%0D%0Ab/usage", "path"], [`/v1/invoices?consumer=x%00y`, "query.consumer"]] as const) {
      const res = await admin(stack, "GET", url);
      assert.equal(res.statusCode, 400, url);
      assert.equal(res.json().error.field, field, url);
    }
  });

  it("a consumer key naming another consumer in ?consumer= is refused, not answered with its own invoices", async () => {
    const other = (await admin(stack, "POST", "/v1/consumers", { username: "someone-else" })).json().id;
    const res = await stack.app.inject({ method: "GET", url: `/v1/invoices?consumer=${other}`, headers: { authorization: `Bearer ${consumerKey}` } });
    assert.equal(res.statusCode, 404);
    const own = await stack.app.inject({ method: "GET", url: `/v1/invoices?consumer=${consumerId}`, headers: { authorization: `Bearer ${consumerKey}` } });
    assert.equal(own.statusCode, 200);
  });

  it("an import with one impossible price rejects that consumer, not the file, in a dry run too", async () => {
    // the seed's two consumers, the second with prices no column can hold
    const yaml = SEED_KONG_CONFIG.replace("input_cost_per_token: 0.00000005", "input_cost_per_token: 1e308").replace("output_cost_per_token: 0.0000002", 'output_cost_per_token: "0x10"');
    for (const dry of ["true", "false"]) {
      const res = await stack.app.inject({ method: "POST", url: `/v1/imports/kong-config?dry_run=${dry}`, headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/yaml" }, payload: yaml });
      assert.equal(res.statusCode, 200, res.body);
      const report = res.json();
      assert.equal(report.rejected.length, 1);
      assert.deepEqual(report.rejected[0].reasons.map((r: { field: string }) => r.field.replace(/.*config\./, "")).sort(), ["input_cost_per_token", "output_cost_per_token"]);
      assert.equal(report.summary.created + report.summary.unchanged, 1);
    }
  });

  it("max_tokens given as a string is checked as the number it holds, and a non-number is refused", async () => {
    await importSeed(stack);
    const decide = async (body: Record<string, unknown>) =>
      (await stack.app.inject({
        method: "POST",
        url: "/v1/gateway/authorize",
        headers: { authorization: `Bearer ${INGEST_SECRET}`, "content-type": "application/json" },
        payload: JSON.stringify({ consumer: { username: "llama2-client" }, body: JSON.stringify({ model: "gpt-4o", messages: [], ...body }) }),
      })).json();
    assert.equal((await decide({ max_tokens: "99999" })).reason.code, "max_tokens_over_limit");
    assert.equal((await decide({ max_completion_tokens: "lots" })).reason.code, "max_tokens_invalid");
    assert.equal((await decide({ max_tokens: "100" })).allow, true);
  });

  it("the import command exits 2 for a file it cannot read, as the README says", async () => {
    const run = promisify(execFile);
    const res = await run("node", ["--import", "tsx", "scripts/import-kong.ts", "/no/such/file.yaml"], { cwd: new URL("../..", import.meta.url).pathname }).catch((e) => e);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /cannot be read \(ENOENT\)/);
  });
});
