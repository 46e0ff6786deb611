// The OpenAPI document is the API's contract: every operation documents its success body, and a
// walk over every operation with real data (consumers, prices, metered calls, invoices, credits,
// budgets, webhooks, dead letters) gets answers that validate against the published document,
// read with an independent JSON Schema validator (Ajv, draft 2020-12, as OpenAPI 3.1 uses).
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import type { InvoiceWorker } from "../../workers/invoices/worker.ts";
import { kongLog } from "../fixtures/kong-logs.ts";
import { meterLogs, startTestInvoiceWorker, tick } from "../helpers/billing.ts";
import { ADMIN_KEY, admin, INGEST_SECRET, importSeed, startStack, type Stack } from "../helpers/stack.ts";

type Call = {
  /** "METHOD /openapi/{path}" as the document names the operation. */
  op: string;
  url: string;
  body?: unknown;
  /** Default: the admin key. */
  auth?: string;
  headers?: Record<string, string>;
  payload?: string;
};

let stack: Stack;
let worker: InvoiceWorker;
let doc: { paths: Record<string, Record<string, { responses: Record<string, any> }>> };
const kongId = randomUUID();
const RATES = { input_cost_per_token: "0.000001", output_cost_per_token: "0.000002" };

before(async () => {
  stack = await startStack(
    { BILLING_TIMEZONE: "UTC", BILLING_PERIOD: "monthly", WEBHOOK_SECRET_KEY: Buffer.alloc(32, 7).toString("base64") },
    { meter: false },
  );
  worker = await startTestInvoiceWorker(stack);
  doc = (await stack.app.inject({ method: "GET", url: "/openapi.json" })).json();
});
after(async () => {
  await worker.stop();
  await stack.close();
});

/** The documented success status of an operation and the schema of its body. */
function documented(op: string): { status: number; schema: unknown; pointer: string } {
  const [method, path] = op.split(" ") as [string, string];
  const responses = doc.paths[path]?.[method.toLowerCase()]?.responses;
  assert.ok(responses, `${op} is not in the document`);
  const status = Object.keys(responses).find((s) => /^[23]\d\d$/.test(s));
  assert.ok(status, `${op} documents no success answer`);
  const pointer = ["paths", path, method.toLowerCase(), "responses", status, "content", "application/json", "schema"]
    .map((p) => encodeURIComponent(p.replaceAll("~", "~0").replaceAll("/", "~1")))
    .join("/");
  return { status: Number(status), schema: responses[status].content?.["application/json"]?.schema, pointer };
}

describe("response contract", () => {
  it("every operation documents its success body", () => {
    const missing = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item).flatMap(([method, op]) => {
        const status = Object.keys(op.responses).find((s) => /^[23]\d\d$/.test(s));
        if (!status) return [`${method} ${path}: no success answer`];
        if (status === "204" || status === "302") return [];
        const schema = op.responses[status].content?.["application/json"]?.schema;
        return schema && Object.keys(schema).length > 0 ? [] : [`${method} ${path}: success body undocumented`];
      }),
    );
    assert.deepEqual(missing, []);
  });

  it("every operation, called with real data, answers what the document describes", async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    ajv.addSchema(doc, "openapi.json");

    // data behind every answer: the seed, a consumer with a key, a book and plan, metered calls in a
    // closed period (invoices with lines), a budget, credit, a webhook endpoint and a dead letter
    await importSeed(stack);
    const consumer = (
      await admin(stack, "POST", "/v1/consumers", { username: "walker", kong_id: kongId, metadata: RATES })
    ).json();
    const c = consumer.id as string;
    const key = (await admin(stack, "POST", `/v1/consumers/${c}/api-keys`)).json();
    await admin(stack, "POST", "/v1/price-books", {
      name: "walk-book",
      prices: [{ model: "gpt-4o", ...RATES, request_fee: "0.001" }],
    });
    await admin(stack, "PATCH", `/v1/consumers/${c}`, { metadata: { tags: ["walk-tag"] } });
    const logs = [1, 2, 3].map((i) =>
      kongLog({
        consumer: { id: kongId, username: "walker" },
        startedAt: Date.parse(`2026-11-0${i}T10:00:00Z`),
        ai: {
          proxy: {
            usage: { prompt_tokens: 12, completion_tokens: 7 },
            meta: { request_model: "gpt-4o", response_model: "gpt-4o" },
          },
        },
      }),
    );
    const metered = await meterLogs(stack, logs);
    const eventId = metered.metered[0]!.id as string;
    await tick(stack.billingQueue, "2026-12-01T00:30:00Z");
    const invoice = (await stack.db.invoice.findFirstOrThrow({ where: { consumerId: c } })).id;
    const endpoint = (
      await admin(stack, "POST", "/v1/webhook-endpoints", { url: "https://hooks.example.com/walk" })
    ).json().id as string;
    const letter = await stack.db.deadLetter.create({
      data: {
        stage: "ingest",
        kind: "not_an_object",
        reason: "entry 0 is not a JSON object",
        failedAt: new Date(),
        payload: Buffer.from("7"),
        dlqTopic: "walk.dlq",
        dlqPartition: 0,
        dlqOffset: 1n,
      },
    });
    const future = "2031-01-01T00:00:00Z";
    const run = await admin(stack, "POST", "/v1/billing/runs", { period: "2026-11-01" });

    const asKong = { authorization: `Bearer ${INGEST_SECRET}`, "x-consumer-id": kongId };
    const calls: Call[] = [
      { op: "GET /livez", url: "/livez" },
      { op: "GET /healthz", url: "/healthz" },
      { op: "GET /readyz", url: "/readyz" },
      { op: "GET /metrics", url: "/metrics" },
      { op: "GET /ui", url: "/ui" },
      { op: "GET /ui/", url: "/ui/" },
      { op: "GET /ui/assets/{file}", url: `/ui/assets/${await firstAsset()}` },
      { op: "POST /ingest/kong", url: "/ingest/kong", auth: INGEST_SECRET, body: [logs[0], 7] },
      {
        op: "POST /ingest/events",
        url: "/ingest/events",
        auth: INGEST_SECRET,
        headers: { "content-type": "application/cloudevents-batch+json" },
        body: [{}],
      },
      {
        op: "POST /v1/gateway/authorize",
        url: "/v1/gateway/authorize",
        auth: INGEST_SECRET,
        body: { consumer: { id: kongId }, model: "gpt-4o", body: { model: "gpt-4o", messages: [] } },
      },
      { op: "GET /api/user-metadata", url: "/api/user-metadata", headers: asKong },
      { op: "GET /api/tdl-matrix", url: "/api/tdl-matrix", headers: asKong },
      { op: "GET /v1/me", url: "/v1/me", auth: key.key },
      { op: "GET /v1/consumers", url: "/v1/consumers" },
      { op: "GET /v1/consumers/{consumer}", url: `/v1/consumers/${c}` },
      { op: "PATCH /v1/consumers/{consumer}", url: `/v1/consumers/${c}`, body: { custom_id: "walk-1" } },
      { op: "GET /v1/consumers/{consumer}/metadata/versions", url: `/v1/consumers/${c}/metadata/versions` },
      { op: "GET /v1/consumers/{consumer}/api-keys", url: `/v1/consumers/${c}/api-keys` },
      { op: "GET /v1/consumers/{consumer}/rates", url: `/v1/consumers/${c}/rates` },
      {
        op: "POST /v1/consumers/{consumer}/rates",
        url: `/v1/consumers/${c}/rates`,
        body: { effective_from: future, ...RATES },
      },
      { op: "GET /v1/price-books", url: "/v1/price-books" },
      { op: "GET /v1/price-books/{book}", url: "/v1/price-books/walk-book" },
      { op: "PATCH /v1/price-books/{book}", url: "/v1/price-books/walk-book", body: { fee_per_period: "5" } },
      {
        op: "POST /v1/price-books/{book}/prices",
        url: "/v1/price-books/walk-book/prices",
        body: {
          model: "gpt-4o*",
          effective_from: future,
          ...RATES,
          tiering: { mode: "graduated", tiers: [{ above: 1000, ...RATES }] },
        },
      },
      {
        op: "POST /v1/price-books/{book}/import",
        url: "/v1/price-books/walk-book/import",
        body: { format: "shipped", effective_from: future },
      },
      {
        op: "POST /v1/consumers/{consumer}/prices",
        url: `/v1/consumers/${c}/prices`,
        body: { model: "gpt-4o-mini", effective_from: future, ...RATES },
      },
      { op: "GET /v1/consumers/{consumer}/prices", url: `/v1/consumers/${c}/prices` },
      { op: "PUT /v1/tags/{tag}/plan", url: "/v1/tags/walk-tag/plan", body: { price_book: "walk-book" } },
      { op: "GET /v1/tags/{tag}/plan", url: "/v1/tags/walk-tag/plan" },
      {
        op: "PUT /v1/consumers/{consumer}/plan",
        url: `/v1/consumers/${c}/plan`,
        body: { price_book: null },
      },
      {
        op: "PUT /v1/consumers/{consumer}/budget",
        url: `/v1/consumers/${c}/budget`,
        body: { period: "monthly", amount: "10", thresholds: [50] },
      },
      { op: "GET /v1/consumers/{consumer}/budget", url: `/v1/consumers/${c}/budget`, auth: key.key },
      { op: "GET /v1/consumers/{consumer}/budget/versions", url: `/v1/consumers/${c}/budget/versions` },
      { op: "PUT /v1/tags/{tag}/budget", url: "/v1/tags/walk-tag/budget", body: { period: "daily", tokens: 1000 } },
      { op: "GET /v1/tags/{tag}/budget", url: "/v1/tags/walk-tag/budget" },
      { op: "GET /v1/tags/{tag}/budget/versions", url: "/v1/tags/walk-tag/budget/versions" },
      {
        op: "POST /v1/consumers/{consumer}/credits/grants",
        url: `/v1/consumers/${c}/credits/grants`,
        body: { amount: "10", kind: "purchase", expires_at: "2031-01-01" },
      },
      {
        op: "POST /v1/tags/{tag}/credits/grants",
        url: "/v1/tags/walk-tag/credits/grants",
        body: { amount: "5", kind: "promotion" },
      },
      {
        op: "PUT /v1/consumers/{consumer}/credits/settings",
        url: `/v1/consumers/${c}/credits/settings`,
        body: { prepaid: true, low_thresholds: ["1"] },
      },
      { op: "GET /v1/consumers/{consumer}/credits", url: `/v1/consumers/${c}/credits`, auth: key.key },
      { op: "GET /v1/tags/{tag}/credits", url: "/v1/tags/walk-tag/credits" },
      { op: "GET /v1/consumers/{consumer}/credits/ledger", url: `/v1/consumers/${c}/credits/ledger` },
      { op: "GET /v1/tags/{tag}/credits/ledger", url: "/v1/tags/walk-tag/credits/ledger" },
      {
        op: "GET /v1/consumers/{consumer}/usage",
        url: `/v1/consumers/${c}/usage?from=2026-11-01T00:00:00Z&to=2026-11-20T00:00:00Z`,
      },
      { op: "GET /v1/usage/unattributed", url: "/v1/usage/unattributed" },
      {
        op: "GET /v1/consumers/{consumer}/tdl-matrix",
        url: `/v1/consumers/${c}/tdl-matrix?date=2026-11-01&cells=true`,
      },
      { op: "GET /v1/consumers/{consumer}/tdl-calendar", url: `/v1/consumers/${c}/tdl-calendar?month=2026-11` },
      { op: "GET /v1/spend", url: "/v1/spend" },
      { op: "GET /v1/invoices", url: "/v1/invoices" },
      { op: "GET /v1/consumers/{consumer}/invoices", url: `/v1/consumers/${c}/invoices` },
      { op: "GET /v1/invoices/{id}", url: `/v1/invoices/${invoice}` },
      { op: "GET /v1/invoices/{id}/lines/{position}/events", url: `/v1/invoices/${invoice}/lines/1/events` },
      { op: "GET /v1/events/{id}", url: `/v1/events/${encodeURIComponent(eventId)}` },
      { op: "GET /v1/billing/report", url: "/v1/billing/report?period=2026-11-01&format=json" },
      { op: "GET /v1/billing/runs/{id}", url: `/v1/billing/runs/${run.json().run_id}` },
      { op: "GET /v1/reports/drift", url: "/v1/reports/drift?from=2026-11-01T00:00:00Z&to=2026-11-20T00:00:00Z" },
      {
        op: "GET /v1/reports/anomalies",
        url: "/v1/reports/anomalies?from=2026-11-01T00:00:00Z&to=2026-11-20T00:00:00Z",
      },
      { op: "GET /v1/reports/focus", url: "/v1/reports/focus?period=2026-11-01" },
      { op: "GET /v1/webhook-endpoints", url: "/v1/webhook-endpoints" },
      { op: "GET /v1/webhook-endpoints/{id}/deliveries", url: `/v1/webhook-endpoints/${endpoint}/deliveries` },
      { op: "GET /v1/alerts", url: "/v1/alerts" },
      { op: "GET /v1/dead-letters", url: "/v1/dead-letters" },
      { op: "GET /v1/dead-letters/{id}", url: `/v1/dead-letters/${letter.id}` },
      { op: "POST /v1/dead-letters/replay", url: "/v1/dead-letters/replay", body: { ids: [letter.id] } },
      {
        op: "POST /v1/imports/kong-config",
        url: "/v1/imports/kong-config?dry_run=true",
        headers: { "content-type": "application/yaml" },
        payload: "_format_version: '3.0'\nconsumers: []\n",
      },
      { op: "POST /v1/invoices/{id}/redraft", url: `/v1/invoices/${invoice}/redraft` },
      { op: "GET /v1/invoices/{id}/document.html", url: `/v1/invoices/${invoice}/document.html` },
      { op: "GET /v1/invoices/{id}/document.pdf", url: `/v1/invoices/${invoice}/document.pdf` },
      {
        op: "POST /v1/invoices/{id}/finalize",
        url: `/v1/invoices/${invoice}/finalize`,
        body: { reason: "walk", allow_unpriced: true },
      },
      { op: "POST /v1/invoices/{id}/void", url: `/v1/invoices/${invoice}/void`, body: { reason: "walk" } },
      { op: "POST /v1/webhook-endpoints/{id}/test", url: `/v1/webhook-endpoints/${endpoint}/test` },
      { op: "DELETE /v1/webhook-endpoints/{id}", url: `/v1/webhook-endpoints/${endpoint}` },
      { op: "DELETE /v1/consumers/{consumer}/budget", url: `/v1/consumers/${c}/budget` },
      { op: "DELETE /v1/tags/{tag}/budget", url: "/v1/tags/walk-tag/budget" },
      { op: "DELETE /v1/consumers/{consumer}/api-keys/{id}", url: `/v1/consumers/${c}/api-keys/${key.id}` },
    ];
    // answers that need an id made by an earlier call of the walk
    const grants = (await stack.db.creditGrant.findMany({ orderBy: { createdAt: "asc" } })).map((g) => g.id);
    calls.push(
      {
        op: "POST /v1/consumers/{consumer}/credits/grants/{grant}/void",
        url: `/v1/consumers/${c}/credits/grants/{consumer-grant}/void`,
        body: { reason: "walk" },
      },
      {
        op: "POST /v1/tags/{tag}/credits/grants/{grant}/void",
        url: "/v1/tags/walk-tag/credits/grants/{tag-grant}/void",
        body: { reason: "walk" },
      },
      { op: "DELETE /v1/consumers/{consumer}/rates/{id}", url: `/v1/consumers/${c}/rates/{future-rate}` },
      { op: "POST /v1/consumers", url: "/v1/consumers", body: { username: "walker-2" } },
      { op: "POST /v1/consumers/{consumer}/api-keys", url: `/v1/consumers/${c}/api-keys` },
      { op: "POST /v1/price-books", url: "/v1/price-books", body: { name: "walk-book-2" } },
      { op: "POST /v1/webhook-endpoints", url: "/v1/webhook-endpoints", body: { url: "https://hooks.example.com/w2" } },
      { op: "POST /v1/billing/runs", url: "/v1/billing/runs", body: { period: "2026-11-01" } },
    );
    assert.equal(grants.length, 0, "grants are made by the walk itself");

    const failures: string[] = [];
    for (const call of calls) {
      const url = await resolveLate(call.url, c);
      const res = await stack.app.inject({
        method: call.op.split(" ")[0] as "GET",
        url,
        headers: {
          authorization: `Bearer ${call.auth ?? ADMIN_KEY}`,
          ...(call.body !== undefined || call.payload !== undefined ? { "content-type": "application/json" } : {}),
          ...call.headers,
        },
        payload: call.payload ?? (call.body === undefined ? undefined : JSON.stringify(call.body)),
      });
      const want = documented(call.op);
      if (res.statusCode !== want.status) {
        failures.push(`${call.op}: ${res.statusCode} (documented ${want.status}) ${res.body.slice(0, 300)}`);
        continue;
      }
      if (!want.schema) continue;
      const isJson = /json/.test(String(res.headers["content-type"] ?? ""));
      const body = isJson ? res.json() : res.body;
      const validate = ajv.getSchema(`openapi.json#/${want.pointer}`);
      assert.ok(validate, `${call.op}: schema at ${want.pointer}`);
      if (!validate(body)) failures.push(`${call.op}: ${ajv.errorsText(validate.errors)}`);
    }
    assert.deepEqual(failures, []);

    const walked = new Set(calls.map((c) => c.op));
    const all = Object.entries(doc.paths).flatMap(([p, item]) =>
      Object.keys(item).map((m) => `${m.toUpperCase()} ${p}`),
    );
    assert.deepEqual(
      all.filter((op) => !walked.has(op)),
      [],
      "every documented operation is walked",
    );
  });
});

/** Ids made during the walk (a grant, a future rate), read just before the call that needs them. */
async function resolveLate(url: string, consumerId: string): Promise<string> {
  if (url.includes("{consumer-grant}")) {
    const g = await stack.db.creditGrant.findFirstOrThrow({ where: { consumerId } });
    return url.replace("{consumer-grant}", g.id);
  }
  if (url.includes("{tag-grant}")) {
    const g = await stack.db.creditGrant.findFirstOrThrow({ where: { tag: "walk-tag" } });
    return url.replace("{tag-grant}", g.id);
  }
  if (url.includes("{future-rate}")) {
    const r = await stack.db.consumerRate.findFirstOrThrow({
      where: { consumerId, effectiveFrom: { gt: new Date() } },
    });
    return url.replace("{future-rate}", r.id);
  }
  return url;
}

/** The name of one of the dashboard's built assets. */
async function firstAsset(): Promise<string> {
  const page = (await stack.app.inject({ method: "GET", url: "/ui/" })).body;
  const m = page.match(/assets\/([A-Za-z0-9._-]+)/);
  assert.ok(m, "the dashboard page names its assets");
  return m[1]!;
}
