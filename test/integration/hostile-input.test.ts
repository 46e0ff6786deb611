// Odd and hostile values against every field of every route the OpenAPI document describes: each
// is a 400 in the documented error shape naming the field, and nothing in the database changed.
// The values come from each field's own schema (test/helpers/openapi-cases.ts).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import {
  ADMIN_KEY,
  admin,
  INGEST_SECRET,
  importSeed,
  SEED_KONG_CONFIG,
  startStack,
  type Stack,
} from "../helpers/stack.ts";
import { bodyFields, oddValues } from "../helpers/openapi-cases.ts";

let stack: Stack;
let consumerId: string;
let consumerKey: string;

before(async () => {
  stack = await startStack({ WEBHOOK_SECRET_KEY: Buffer.alloc(32, 7).toString("base64") }, { meter: false });
  const res = await admin(stack, "POST", "/v1/consumers", { username: "hostile-target", kong_id: randomUUID() });
  consumerId = res.json().id;
  consumerKey = (await admin(stack, "POST", `/v1/consumers/${consumerId}/api-keys`)).json().key;
});
after(() => stack.close());

/** Rows an accepted request would add or change. */
async function fingerprint() {
  const [consumers, rates, versions, keys, invoices, history, adjustments, deadLetters, budgets, endpoints] =
    await Promise.all([
      stack.db.consumer.count(),
      stack.db.consumerRate.count(),
      stack.db.consumerMetadataVersion.count(),
      stack.db.consumerApiKey.count(),
      stack.db.invoice.count(),
      stack.db.invoiceStatusChange.count(),
      stack.db.priceAdjustment.count(),
      stack.db.deadLetter.count(),
      stack.db.budgetVersion.count(),
      stack.db.webhookEndpoint.count(),
    ]);
  const target = await stack.db.consumer.findUniqueOrThrow({ where: { id: consumerId } });
  return JSON.stringify({
    consumers,
    rates,
    versions,
    keys,
    invoices,
    history,
    adjustments,
    deadLetters,
    budgets,
    endpoints,
    target: { ...target, updatedAt: undefined },
  });
}

/** A valid body for each operation that takes one; a probe changes one field of it. */
const BASELINES: Record<string, Record<string, unknown>> = {
  "post /v1/consumers": { username: "new-one" },
  "patch /v1/consumers/{consumer}": {},
  "post /v1/consumers/{consumer}/rates": {
    effective_from: "2030-01-01T00:00:00Z",
    input_cost_per_token: "0.1",
    output_cost_per_token: "0.2",
  },
  "post /v1/invoices/{id}/finalize": {},
  "post /v1/invoices/{id}/void": { reason: "test" },
  "post /v1/billing/runs": { period: "2026-10-01" },
  "post /v1/dead-letters/replay": { ids: [randomUUID()] },
  "post /v1/gateway/authorize": { consumer: { username: "hostile-target" } },
  "put /v1/consumers/{consumer}/budget": { period: "daily", amount: "10", thresholds: [50] },
  "put /v1/tags/{tag}/budget": { period: "weekly", tokens: 1000 },
  "post /v1/consumers/{consumer}/credits/grants": { amount: "10", kind: "purchase", expires_at: "2031-01-01" },
  "post /v1/consumers/{consumer}/credits/grants/{grant}/void": { reason: "test" },
  "post /v1/tags/{tag}/credits/grants": { amount: "10", kind: "promotion" },
  "post /v1/tags/{tag}/credits/grants/{grant}/void": { reason: "test" },
  "put /v1/consumers/{consumer}/credits/settings": { prepaid: true, low_thresholds: ["5"] },
  "post /v1/webhook-endpoints": { url: "https://hooks.example.com/tokenmeter", event_types: ["budget.exhausted"] },
  "post /v1/price-books": {
    name: "hostile-book",
    prices: [{ model: "gpt-4o", input_cost_per_token: "0.1", output_cost_per_token: "0.2" }],
  },
  "post /v1/price-books/{book}/prices": {
    model: "gpt-4o*",
    effective_from: "2030-01-01T00:00:00Z",
    input_cost_per_token: "0.1",
    output_cost_per_token: "0.2",
    request_fee: "0.001",
    tiering: {
      mode: "graduated",
      tiers: [{ above: 1000, input_cost_per_token: "0.05", output_cost_per_token: "0.1" }],
    },
  },
  "put /v1/consumers/{consumer}/plan": { price_book: "hostile-book", markup_percent: "5" },
  "put /v1/tags/{tag}/plan": { price_book: "hostile-book", markup_percent: "5" },
  "post /v1/consumers/{consumer}/prices": {
    model: "gpt-4o",
    effective_from: "2030-01-01T00:00:00Z",
    input_cost_per_token: "0.1",
    output_cost_per_token: "0.2",
  },
  "post /v1/price-books/{book}/import": { format: "litellm", effective_from: "2030-01-01T00:00:00Z", catalog: {} },
  "patch /v1/price-books/{book}": { description: "plan", fee_per_period: "10", minimum_per_period: null },
};

/** Required query parameters of an operation, valid; a probe replaces one. */
const QUERY_BASELINES: Record<string, Record<string, string>> = {
  "get /v1/billing/report": { period: "2026-10-01" },
  "get /v1/reports/focus": { period: "2026-10-01" },
};

type Probe = {
  label: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  field: string;
};
type Operation = { key: string; method: string; path: string; op: Record<string, any> };

function operations(doc: Record<string, any>): Operation[] {
  return Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
    Object.entries(item).map(([method, op]) => ({ key: `${method} ${path}`, method, path, op })),
  );
}

function credentialOf(op: Record<string, any>): string {
  const schemes = (op.security ?? []).map((s: object) => Object.keys(s)[0]);
  return schemes.includes("adminKey") ? ADMIN_KEY : schemes.includes("gatewaySecret") ? INGEST_SECRET : ADMIN_KEY;
}

/** One request per odd value per field of one operation, everything else valid. */
function probesOf({ key, method, path, op }: Operation): Probe[] {
  const pathValues: Record<string, string> = {
    consumer: consumerId,
    id: randomUUID(),
    grant: randomUUID(),
    position: "1",
    tag: "hostile-tag",
    book: "hostile-book",
  };
  const urlOf = (over: Record<string, string> = {}, query = "") =>
    path.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(over[name] ?? pathValues[name]!)) +
    (query ? `?${query}` : "");
  const base = BASELINES[key];
  const headers = {
    authorization: `Bearer ${credentialOf(op)}`,
    ...(base ? { "content-type": "application/json" } : {}),
  };
  const body = base ? JSON.stringify(base) : undefined;
  const probe = (label: string, field: string, over: Partial<Probe>): Probe => ({
    label: `${key} ${label}`,
    method: method.toUpperCase(),
    url: urlOf(),
    headers,
    body,
    field,
    ...over,
  });
  const show = (v: unknown) => JSON.stringify(v)?.slice(0, 30);

  const params = (op.parameters ?? []) as Array<{
    in: "path" | "query" | "header";
    name: string;
    schema: Record<string, any>;
  }>;
  const fromParams = params.flatMap((p) =>
    oddValues(p.schema, p.in).map((v) => {
      const field = `${p.in}.${p.name}`;
      if (p.in === "path") return probe(`${field}=${show(v)}`, field, { url: urlOf({ [p.name]: String(v) }) });
      if (p.in === "query")
        return probe(`${field}=${show(v)}`, field, {
          url: urlOf({}, new URLSearchParams({ ...QUERY_BASELINES[key], [p.name]: String(v) }).toString()),
        });
      return probe(`${field}=${show(v)}`, `header.${p.name}`, { headers: { ...headers, [p.name]: String(v) } });
    }),
  );
  const schema = op.requestBody?.content?.["application/json"]?.schema;
  const fromBody = schema
    ? bodyFields(schema).flatMap(([field, fieldSchema]) =>
        oddValues(fieldSchema, "body").map((v) => {
          const changed = structuredClone(base ?? {}) as Record<string, unknown>;
          const names = field.split(".");
          let node = changed;
          for (const k of names.slice(0, -1))
            node = (typeof node[k] === "object" && node[k] !== null ? node[k] : (node[k] = {})) as Record<
              string,
              unknown
            >;
          node[names.at(-1)!] = v;
          return probe(`${field}=${show(v)}`, field, { body: JSON.stringify(changed) });
        }),
      )
    : [];
  return [...fromParams, ...fromBody];
}

describe("hostile input", () => {
  it("every odd value of every field of every route in /openapi.json is a 4xx naming the field, in the documented shape, and changes nothing", async () => {
    const doc = (await stack.app.inject({ method: "GET", url: "/openapi.json" })).json();
    const ops = operations(doc);
    const missing = ops
      .filter((o) => o.op.requestBody?.content?.["application/json"] && !BASELINES[o.key])
      .map((o) => o.key);
    assert.deepEqual(missing, [], "every route with a JSON body has a valid baseline here");
    const probes = ops.flatMap(probesOf);
    const before = await fingerprint();
    const failures: string[] = [];
    for (const k of probes) {
      const res = await stack.app.inject({
        method: k.method as "GET",
        url: k.url,
        headers: k.headers,
        payload: k.body,
      });
      const body = res.json();
      // the field itself, or an element of it (metadata.tags.0); a control character in the URL names the path
      const f = String(body.error?.field);
      const names = f === k.field || f.startsWith(`${k.field}.`) || (k.field.startsWith("path.") && f === "path");
      const ok =
        res.statusCode === 400 &&
        body.error?.code === "validation_failed" &&
        typeof body.error?.message === "string" &&
        typeof body.error?.requestId === "string" &&
        names;
      if (!ok) failures.push(`${k.label}: ${res.statusCode} ${res.body.slice(0, 200)}`);
    }
    assert.deepEqual(failures, [], `${failures.length} of ${probes.length} probes`);
    assert.equal(await fingerprint(), before, "nothing changed in the database");
    const fields = new Set(probes.map((p) => `${p.label.split(" ").slice(0, 2).join(" ")} ${p.field}`));
    console.log(
      `hostile input: ${probes.length} probes over ${fields.size} fields of ${new Set(probes.map((p) => p.label.split(" ").slice(0, 2).join(" "))).size} of ${ops.length} operations`,
    );
    assert.ok(probes.length >= 300, `${probes.length} probes`);
  });

  it("a JSON number a double cannot carry is refused with a message to send a string, and the same digits as a string are taken exactly", async () => {
    const post = (payload: string) =>
      stack.app.inject({
        method: "POST",
        url: "/v1/consumers",
        headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/json" },
        payload,
      });
    const rounded = await post('{"username":"digits","metadata":{"input_cost_per_token":123456789012.123456789012}}');
    assert.equal(rounded.statusCode, 400);
    assert.equal(rounded.json().error.field, "metadata.input_cost_per_token");
    assert.match(rounded.json().error.message, /send the price as a string \("123456789012.123456789012"\)/);
    const asString = await post(
      '{"username":"digits","metadata":{"input_cost_per_token":"123456789012.123456789012","output_cost_per_token":"0"}}',
    );
    assert.equal(asString.statusCode, 201, asString.body);
    assert.equal(asString.json().metadata.input_cost_per_token, "123456789012.123456789012");
    const plain = await post(
      '{"username":"digits-2","metadata":{"input_cost_per_token":0.000000083,"output_cost_per_token":"0"}}',
    );
    assert.equal(plain.json().metadata.input_cost_per_token, "0.000000083");
  });

  it("a path segment longer than the router takes is refused in the same shape", async () => {
    const res = await stack.app.inject({
      method: "GET",
      url: `/v1/consumers/${"x".repeat(5000)}`,
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    assert.equal(res.statusCode, 400);
    assert.equal(res.json().error.field, "path");
  });

  it("control characters in a path segment or a query parameter are a 400 naming where", async () => {
    for (const [url, field] of [
      ["/v1/consumers/a%00b", "path"],
      ["/v1/consumers/a%0D%0Ab/usage", "path"],
      [`/v1/invoices?consumer=x%00y`, "query.consumer"],
    ] as const) {
      const res = await admin(stack, "GET", url);
      assert.equal(res.statusCode, 400, url);
      assert.equal(res.json().error.field, field, url);
    }
  });

  it("a consumer key naming another consumer in ?consumer= is refused, not answered with its own invoices", async () => {
    const other = (await admin(stack, "POST", "/v1/consumers", { username: "someone-else" })).json().id;
    const res = await stack.app.inject({
      method: "GET",
      url: `/v1/invoices?consumer=${other}`,
      headers: { authorization: `Bearer ${consumerKey}` },
    });
    assert.equal(res.statusCode, 404);
    const own = await stack.app.inject({
      method: "GET",
      url: `/v1/invoices?consumer=${consumerId}`,
      headers: { authorization: `Bearer ${consumerKey}` },
    });
    assert.equal(own.statusCode, 200);
  });

  it("an import with one impossible price rejects that consumer, not the file, in a dry run too", async () => {
    // the seed's two consumers, the second with prices no column can hold
    const yaml = SEED_KONG_CONFIG.replace("input_cost_per_token: 0.00000005", "input_cost_per_token: 1e308").replace(
      "output_cost_per_token: 0.0000002",
      'output_cost_per_token: "0x10"',
    );
    for (const dry of ["true", "false"]) {
      const res = await stack.app.inject({
        method: "POST",
        url: `/v1/imports/kong-config?dry_run=${dry}`,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, "content-type": "application/yaml" },
        payload: yaml,
      });
      assert.equal(res.statusCode, 200, res.body);
      const report = res.json();
      assert.equal(report.rejected.length, 1);
      assert.deepEqual(
        report.rejected[0].reasons.map((r: { field: string }) => r.field.replace(/.*config\./, "")).sort(),
        ["input_cost_per_token", "output_cost_per_token"],
      );
      assert.equal(report.summary.created + report.summary.unchanged, 1);
    }
  });

  it("max_tokens given as a string is checked as the number it holds, and a non-number is refused", async () => {
    await importSeed(stack);
    const decide = async (body: Record<string, unknown>) =>
      (
        await stack.app.inject({
          method: "POST",
          url: "/v1/gateway/authorize",
          headers: { authorization: `Bearer ${INGEST_SECRET}`, "content-type": "application/json" },
          payload: JSON.stringify({
            consumer: { username: "llama2-client" },
            body: JSON.stringify({ model: "gpt-4o", messages: [], ...body }),
          }),
        })
      ).json();
    assert.equal((await decide({ max_tokens: "99999" })).reason.code, "max_tokens_over_limit");
    assert.equal((await decide({ max_completion_tokens: "lots" })).reason.code, "max_tokens_invalid");
    assert.equal((await decide({ max_tokens: "100" })).allow, true);
  });

  it("the import command exits 2 for a file it cannot read, as the README says", async () => {
    const run = promisify(execFile);
    const res = await run("node", ["--import", "tsx", "scripts/import-kong.ts", "/no/such/file.yaml"], {
      cwd: new URL("../..", import.meta.url).pathname,
    }).catch((e) => e);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /cannot be read \(ENOENT\)/);
  });
});
